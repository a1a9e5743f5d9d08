#!/usr/bin/env python3
"""Checks docs/manifest.schema.json against the haul manifest samples.

Usage: check_manifest_schema.py SCHEMA TESTDATA

Every file of TESTDATA/haul/valid/ must pass the schema and every file of
TESTDATA/haul/invalid/ must fail it. TESTDATA/haul/invalid_beyond_schema/
holds manifests only haul's reader refuses (duplicate ids or destinations,
a path that cannot default): they must pass the schema, so each is wrong in
that one way only. CTest: manifest_schema. Needs python3-jsonschema.
"""
import json
import pathlib
import sys

import jsonschema


def samples(folder):
    files = sorted(folder.glob("*.json"))
    if not files:
        raise SystemExit(f"check_manifest_schema: no samples in {folder}")
    return files


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    schema = json.loads(pathlib.Path(argv[1]).read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    haul = pathlib.Path(argv[2]) / "haul"

    failures = []
    checked = 0
    for folder, should_pass in (("valid", True), ("invalid_beyond_schema", True),
                                ("invalid", False)):
        for path in samples(haul / folder):
            checked += 1
            doc = json.loads(path.read_text(encoding="utf-8"))
            errors = list(validator.iter_errors(doc))
            name = f"{folder}/{path.name}"
            if should_pass and errors:
                best = jsonschema.exceptions.best_match(errors)
                where = "/".join(str(part) for part in best.absolute_path)
                failures.append(f"{name}: expected to pass, but at /{where}: {best.message}")
            elif not should_pass and not errors:
                failures.append(f"{name}: expected to fail the schema, but it passes")
            else:
                verdict = "passes" if should_pass else f"fails ({len(errors)} errors)"
                print(f"ok {name} {verdict}")

    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print(f"{checked - len(failures)}/{checked} samples as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
