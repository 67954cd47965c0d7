"""Forbidden-output patterns (started from shared/catalog/forbidden_phrases.py, research draft).

Scan SERVICE-GENERATED text only (catalog strings, page templates, PDF text with patient-entered
free text removed, FHIR exports). Patient free text is quoted verbatim and may legitimately contain
any of these words ("my doctor recommended...").

Normalise before matching: lowercase; join words hyphenated across PDF line breaks
("recom-\\nmend" -> "recommend"); collapse all whitespace to single spaces; straighten quotes.
"""

import re

# Applies to every surface: patient form, review page, clinician PDF, FHIR Questionnaire/Response.
FORBIDDEN_ALL = [
    # --- diagnosis or implied diagnosis
    r"\bdiagnos\w*",  # diagnosis, diagnosed, diagnostic
    r"\byou have (mcas|mast cell|ptsd|histamine|mold|heavy metal|mitochondrial)",
    r"\byou (may|might|probably|likely|could) have\b",
    r"\b(likely|probably|possibly) (has|have|had|is|suffers)\b",
    r"\b(the )?patient (has|is|suffers|shows)\b",  # the service only ever says "patient reports ..."
    r"\b(likely|probable|possible|suspected|presumed) (mcas|mast cell|mastocytosis|ptsd)\b",
    r"\byour (mcas|mast cell (disease|disorder|activation))\b",
    r"\b(consistent|compatible) with\b",
    r"\b(suggestive|indicative|characteristic) of\b",
    r"\b(meets?|met|fulfil+s?) (the )?criteria\b",
    r"\bcriteria (are |were )?met\b",
    r"\b(positive|negative) (screen|result|finding)\b",
    r"\bscreen(ed|s)? (positive|negative)\b",
    r"\brules? out\b|\bruled out\b",
    r"\bconfirm(s|ed)? (mcas|the|a) ",
    # --- scores, risk bands, severity labels the service computed
    r"\bscor(e|es|ed|ing)\b",
    r"\b(high|low|moderate|increased|elevated) risk\b",
    r"\bat risk\b|\brisk (level|band|category|score)\b",
    r"\bseverity (score|level|grade|band)\b",
    r"\b(grade|stage) [0-9iv]+\b",
    r"\bclinically (significant|relevant)\b",
    r"\babnormal\b|\bout of range\b|\bthreshold\b|\bcut-?off\b|\bpercentile\b|\bt-score\b",
    r"\bred flag\b|\bwarning sign\b|\btriage\b",
    r"\btotal\s*[:=]?\s*\d",
    r"\b\d{1,2}\s*/\s*(5|8|16|28|40)\b",  # PC-PTSD-5, STOP-Bang, PSS-4, ISI, PSS-10 style totals
    # --- treatment or advice
    r"\brecommend\w*",
    r"\b(we|i) (suggest|advise)\b|\bit is (suggested|advised)\b|\badvice\b",
    r"\byou (should|must|need to|ought to)\b",
    r"\bshould (take|avoid|stop|start|try|see|use|eat|remove|reduce|increase)\b",
    r"\b(try|consider|start|stop) (taking|using|avoiding|eating|removing)\b",
    r"\btreatment (plan|option|recommendation)s?\b|\brecommended treatment\b|\bfirst[- ]line\b",
    r"\bprescrib(e|es|ed|ing)\b",
    r"\b(increase|decrease|reduce|adjust) (the |your )?dose\b|\btaper\b",
    r"\b(elimination|low[- ]histamine) diet (is|may|can|will)\b",
    r"\bdetox\w*|\bchelat\w*",
    r"\bcures?\b|\bcuring\b",  # not "cured" (cured meat is an answer label)
    # --- reassurance, alarm, judgement, attribution
    r"\b(nothing|no need) to worry\b|\bdon'?t worry\b|\bthis is (normal|common|concerning)\b",
    r"\b(substance|alcohol|drug) abuse\b|\balcoholic\b|\bnon-?complian\w*",
    r"\bpsychosomatic\b|\bsomati[sz]ation\b|\bhypochondri\w*|\ball in your head\b",
    r"\bptsd\b|\bpost-?traumatic stress disorder\b",
    r"\byour triggers?\b",
]

# The referral article's category names that read as a finding beside an answer ("Chronic pain:
# Reported", in a document that goes into the patient's record). Everywhere the service prints an
# answer (patient pages, the PDF, the clinic's intake page) topics are named by what was asked;
# the category names appear once, in the PDF's and the page's appendix, never next to an answer
# (issue 17). Scan the clinician's surfaces with their appendix cut off.
CONDITION_WORDS = [
    r"\bmitochondrial dysfunction\b",
    r"\bdental foc(i|us)\b",
    r"\bhormonal imbalances?\b",
    r"\bmicronutrient deficienc(y|ies)\b",
    r"\bchronic (pain|stress|infections?)\b",
    r"\btoxi(c|city|n|ns)\b",
    r"\bheavy metals?\b",
    r"\bsleep disorders?\b",
    r"\btrauma\b",
]

# Patient-facing form and review page only.
FORBIDDEN_PATIENT_FORM = [
    r"\bmitochondrial dysfunction\b",
    r"\bdental foc(i|us)\b",
    r"\btoxi(c|city|n|ns)\b",
    r"\bdeficienc(y|ies)\b",
    r"\btrigger(s|ed)?\b",
    r"\binsomnia\b",
    r"\bpost-?exertional malaise\b|\bpem\b",
    r"\bsyncope\b|\btachycardia\b|\burticaria\b|\bemesis\b|\bcognitive dysfunction\b",
]

COMPILED_ALL = [re.compile(p) for p in FORBIDDEN_ALL]
COMPILED_FORM = [re.compile(p) for p in FORBIDDEN_PATIENT_FORM + CONDITION_WORDS]
COMPILED_CONDITIONS = [re.compile(p) for p in CONDITION_WORDS]


def normalise(text: str) -> str:
    text = (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)  # join hyphenated line breaks
    return re.sub(r"\s+", " ", text).strip().lower()


def violations(text: str, patient_form: bool = False) -> list[str]:
    t = normalise(text)
    pats = COMPILED_ALL + (COMPILED_FORM if patient_form else [])
    return [p.pattern for p in pats if p.search(t)]


def condition_words(text: str) -> list[str]:
    """The article category names in ``text`` that must never stand next to an answer."""
    t = normalise(text)
    return [p.pattern for p in COMPILED_CONDITIONS if p.search(t)]
