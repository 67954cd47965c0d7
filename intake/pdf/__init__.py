"""The clinician's summary: the rows built from (catalog, answers), their HTML, and the renderer process that makes the PDF."""
