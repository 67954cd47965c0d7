"""EHR hand-off: send FHIR resources to the clinic's EHR, outside any web request.

``settings`` reads the configuration, ``keys`` makes and publishes the service's signing key,
``auth`` gets access tokens (SMART Backend Services or a static bearer token) and ``client``
talks FHIR over HTTP without ever following a redirect.
"""
