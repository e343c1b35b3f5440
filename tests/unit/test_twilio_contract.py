"""The check of REST traffic against Twilio's OpenAPI description (simulator/contract.py)
refuses what Twilio does not document and accepts what it does; the fields the gateway
reads from Twilio's answers are all documented."""

from __future__ import annotations

import ast
import importlib.util
import inspect
from pathlib import Path

from holdless import twilio_gateway
from holdless.twilio_gateway import RESPONSE_FIELDS_READ
from simulator import contract

ACCOUNT = "AC" + "0" * 32
CALL = "CA" + "1" * 32
CALLS = f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
CALL_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json"


def test_extract_records_the_twilio_oai_commit_it_was_made_from() -> None:
    source = contract.extract()["source"]
    assert source["repository"] == "twilio/twilio-oai"
    assert source["path"] == "spec/json/twilio_api_v2010.json"
    assert len(source["commit"]) == 40


def test_documented_create_call_fields_are_accepted() -> None:
    form = {"To": ["+15551230000"], "From": ["+15551230001"], "Url": ["https://x.test/a"],
            "Method": ["POST"], "Timeout": ["20"], "MachineDetection": ["Enable"],
            "AsyncAmd": ["true"], "StatusCallbackEvent": ["initiated", "completed"]}
    assert contract.request_problems("POST", CALLS, form, {}) == []


def test_a_form_field_twilio_does_not_document_is_refused_naming_operation_and_field() -> None:
    form = {"To": ["+15551230000"], "From": ["+15551230001"], "Url": ["https://x.test/a"],
            "RingTone": ["uk"]}
    assert contract.request_problems("POST", CALLS, form, {}) == [
        "CreateCall: form parameter 'RingTone' is not documented by Twilio"]


def test_a_query_filter_twilio_does_not_document_is_refused() -> None:
    problems = contract.request_problems("GET", CALLS, {}, {"Direction": ["outbound-api"]})
    assert problems == ["ListCall: query parameter 'Direction' is not documented by Twilio"]


def test_an_enum_value_outside_twilios_list_is_refused() -> None:
    problems = contract.request_problems("POST", CALL_PATH, {"Status": ["hungup"]}, {})
    assert len(problems) == 1
    assert problems[0].startswith("UpdateCall: form parameter 'Status': value 'hungup' is not")
    assert contract.request_problems("POST", CALL_PATH, {"Status": ["completed"]}, {}) == []


def test_a_boolean_parameter_must_be_true_or_false() -> None:
    path = f"/2010-04-01/Accounts/{ACCOUNT}/Conferences/CF{'2' * 32}/Participants/{CALL}.json"
    assert contract.request_problems("POST", path, {"Hold": ["true"]}, {}) == []
    assert contract.request_problems("POST", path, {"Hold": ["yes"]}, {}) == [
        "UpdateParticipant: form parameter 'Hold': value 'yes' is not a boolean"]


def test_a_path_twilio_does_not_document_is_refused_without_naming_the_sid() -> None:
    problems = contract.request_problems("GET", f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}"
                                         "/Hold.json", {}, {})
    assert len(problems) == 1 and "not an operation Twilio documents" in problems[0]
    assert CALL not in problems[0]


def test_a_method_twilio_does_not_document_on_a_path_is_refused() -> None:
    assert contract.request_problems("DELETE", CALLS, {}, {}) != []


def test_recording_media_urls_are_documented_as_mp3_and_wav() -> None:
    base = f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE{'3' * 32}"
    for suffix in (".mp3", ".wav", ""):
        assert contract.operation_for("GET", base + suffix) is not None
    assert contract.operation_for("GET", base + ".ogg") is None


def test_later_features_are_documented_async_amd_message_callback_queue_size_coaching() -> None:
    assert "AsyncAmd" in contract.operation("CreateCall").params
    assert "StatusCallback" in contract.operation("CreateMessage").params
    assert "MaxSize" in contract.operation("CreateQueue").params
    assert "Coaching" in contract.operation("UpdateParticipant").params


def test_an_answer_field_twilio_does_not_document_is_refused() -> None:
    list_calls = contract.operation("ListCall")
    page = {"calls": [{"sid": CALL, "status": "queued"}], "page": 0, "page_size": 50,
            "start": 0, "end": 0, "uri": CALLS, "first_page_uri": CALLS,
            "next_page_uri": None, "previous_page_uri": None}
    assert contract.response_problems(list_calls, page) == []
    meta_page = {"calls": [], "meta": {"key": "calls"}}
    assert contract.response_problems(list_calls, meta_page) == [
        "ListCall: response field 'meta' is not documented by Twilio"]


def test_every_answer_field_the_gateway_reads_is_documented_by_twilio() -> None:
    assert contract.fields_read_problems(RESPONSE_FIELDS_READ) == []
    assert contract.fields_read_problems({"FetchCall": ("hold_status",)}) == [
        "FetchCall: field 'hold_status' is not in Twilio's documented answer"]


def test_every_twilio_field_the_gateway_reads_is_listed_in_response_fields_read() -> None:
    """Attributes read in holdless/twilio_gateway.py that are names of fields in Twilio's
    answers must be listed (so the check above covers them)."""
    answer_fields: set[str] = set()
    for op in contract.operations():
        answer_fields |= op.record_fields if op.list_key else op.response_fields
    listed = {f for fields in RESPONSE_FIELDS_READ.values() for f in fields}
    tree = ast.parse(inspect.getsource(twilio_gateway))
    # Attributes of `exc` (the client's TwilioRestException) are not an answer's fields.
    read = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
            and not (isinstance(node.value, ast.Name) and node.value.id == "exc")}
    unlisted = (read & answer_fields) - listed
    assert not unlisted, f"read but not in RESPONSE_FIELDS_READ: {sorted(unlisted)}"


def test_the_extract_holds_every_operation_the_extract_script_selects() -> None:
    script = Path(__file__).resolve().parents[2] / ".ci" / "twilio_oai_extract.py"
    spec = importlib.util.spec_from_file_location("twilio_oai_extract", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = {*module.OPERATIONS, module.RECORDING_MEDIA["operation_id"]}
    assert set(contract.extract()["operations"]) == expected
