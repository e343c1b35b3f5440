"""Write the part of Twilio's OpenAPI description of the 2010 API that Holdless uses.

Twilio publishes the description in github.com/twilio/twilio-oai (spec/json/
twilio_api_v2010.json). The spec itself is not committed here; this script reads a copy of
it and writes simulator/twilio_api_v2010_used.json: for each operation Holdless uses (or is
about to use) its path, method, operationId, every documented request parameter (form
fields and query parameters with their types and enums) and every documented response
field. simulator/contract.py checks the stand-in's traffic against that extract.

    git clone https://github.com/twilio/twilio-oai /tmp/twilio-oai
    python .ci/twilio_oai_extract.py /tmp/twilio-oai/spec/json/twilio_api_v2010.json \
        --commit "$(git -C /tmp/twilio-oai rev-parse HEAD)"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent.parent / "simulator" / "twilio_api_v2010_used.json"
SPEC_REPOSITORY = "twilio/twilio-oai"
SPEC_PATH = "spec/json/twilio_api_v2010.json"

# The operations Holdless uses or will use, by Twilio's operationId.
OPERATIONS = (
    "CreateCall", "FetchCall", "UpdateCall", "ListCall",
    "CreateMessage", "FetchMessage", "ListMessage",
    "FetchRecording", "ListRecording", "DeleteRecording",
    "CreateCallRecording", "UpdateCallRecording", "FetchCallRecording",
    "CreateQueue", "FetchQueue", "UpdateQueue", "ListQueue",
    "ListMember", "FetchMember", "UpdateMember",
    "ListConference", "FetchConference", "UpdateConference",
    "CreateParticipant", "FetchParticipant", "UpdateParticipant", "DeleteParticipant",
    "ListParticipant",
    "FetchIncomingPhoneNumber", "UpdateIncomingPhoneNumber", "ListIncomingPhoneNumber",
)

# Recording media is not an operation of the OpenAPI description: the Recording resource
# page (https://www.twilio.com/docs/voice/api/recording#fetch-a-recording-media-file)
# documents that the recording's URI with `.mp3` or `.wav` in place of `.json` returns the
# audio (WAV when no extension is given), behind HTTP basic auth when the account requires
# authentication for media.
RECORDING_MEDIA = {
    "operation_id": "FetchRecordingMedia",
    "documented_at": "https://www.twilio.com/docs/voice/api/recording#fetch-a-recording-media-file",
    "method": "GET",
    "paths": [
        "/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.mp3",
        "/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.wav",
        "/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}",
    ],
    "params": {},
    "response_fields": [],
}

HTTP_METHODS = ("get", "post", "delete")


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` (if any) followed within the spec."""
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def describe(spec: dict[str, Any], schema: dict[str, Any], where: str) -> dict[str, Any]:
    """One parameter: where it goes, its type, and its enum (or its items' enum)."""
    schema = resolve(spec, schema)
    entry: dict[str, Any] = {"in": where, "type": schema.get("type", "string")}
    if "enum" in schema:
        entry["enum"] = list(schema["enum"])
    if schema.get("type") == "array":
        items = resolve(spec, schema.get("items", {}))
        entry["items"] = {"type": items.get("type", "string"),
                          **({"enum": list(items["enum"])} if "enum" in items else {})}
    return entry


def parameters(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """Every documented path, query and form parameter of an operation."""
    found = {p["name"]: describe(spec, p.get("schema", {}), p["in"])
             for p in operation.get("parameters", [])}
    form = (operation.get("requestBody", {}).get("content", {})
            .get("application/x-www-form-urlencoded", {}).get("schema", {}))
    for name, schema in resolve(spec, form).get("properties", {}).items():
        found[name] = describe(spec, schema, "form")
    return dict(sorted(found.items()))


def response_fields(spec: dict[str, Any], operation: dict[str, Any]
                    ) -> tuple[list[str], str | None, list[str]]:
    """Top-level fields of the success response; for a list page also its records' key
    and each record's fields."""
    for status in ("200", "201"):
        content = operation.get("responses", {}).get(status, {}).get("content", {})
        if "application/json" in content:
            schema = resolve(spec, content["application/json"]["schema"])
            props = schema.get("properties", {})
            for key, prop in props.items():
                if prop.get("type") == "array" and key not in ("uri",):
                    item = resolve(spec, prop.get("items", {}))
                    return sorted(props), key, sorted(item.get("properties", {}))
            return sorted(props), None, []
    return [], None, []


def extract(spec: dict[str, Any], commit: str) -> dict[str, Any]:
    """The extract: the spec's source and commit, then each used operation."""
    operations: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None or operation.get("operationId") not in OPERATIONS:
                continue
            fields, list_key, record_fields = response_fields(spec, operation)
            entry: dict[str, Any] = {"method": method.upper(), "paths": [path],
                                     "params": parameters(spec, operation),
                                     "response_fields": fields}
            if list_key is not None:
                entry["list_key"] = list_key
                entry["record_fields"] = record_fields
            operations[operation["operationId"]] = entry
    missing = sorted(set(OPERATIONS) - set(operations))
    if missing:
        raise SystemExit(f"operations not in the spec: {', '.join(missing)}")
    media = {k: v for k, v in RECORDING_MEDIA.items() if k != "operation_id"}
    operations[str(RECORDING_MEDIA["operation_id"])] = media
    return {"source": {"repository": SPEC_REPOSITORY, "path": SPEC_PATH, "commit": commit},
            "operations": dict(sorted(operations.items()))}


def main() -> None:
    """Read the spec named on the command line and write the extract."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path, help=f"a copy of {SPEC_PATH}")
    parser.add_argument("--commit", required=True, help=f"the commit of {SPEC_REPOSITORY} read")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    spec = json.loads(args.spec.read_text())
    args.output.write_text(json.dumps(extract(spec, args.commit), indent=1) + "\n")


if __name__ == "__main__":
    main()
