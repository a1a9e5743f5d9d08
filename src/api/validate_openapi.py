#!/usr/bin/env python3
"""Validates src/api/openapi.json against the OpenAPI 3.1 specification.

Run by CTest (openapi_document_valid) when openapi-spec-validator is
installed; without it the test reports itself skipped. The C++ tests check
the document against the routes; this checks it against the spec's schema.
"""
import json
import sys

try:
    from openapi_spec_validator import validate
except ImportError:
    print("HAUL_OPENAPI_VALIDATOR_MISSING: pip install openapi-spec-validator")
    sys.exit(0)

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    document = json.load(f)
if not str(document.get("openapi", "")).startswith("3.1"):
    sys.exit(f"{path}: expected OpenAPI 3.1, got {document.get('openapi')!r}")
validate(document)  # raises with the offending part of the document
print(f"{path}: valid OpenAPI {document['openapi']}")
