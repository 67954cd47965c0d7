"""FHIR R4 resources derived from the catalog and a submission: what EHRs that speak FHIR receive.

- ``site``: the canonical URLs and identifier systems of this installation;
- ``questionnaire``: the whole catalog as one ``Questionnaire``;
- ``response``: a submission as a ``QuestionnaireResponse``;
- ``document``: the stored PDF as a US Core ``DocumentReference``, and the transaction ``Bundle``;
- ``validation``: every resource checked against the ``fhir.resources`` R4B models before it leaves.

Everything here is a plain function of its inputs, with no clock and no randomness: the same
answers always give byte-identical JSON (the PDF embeds it, and a re-export must match).
"""
