"""The stand-in's call recordings behave as Twilio's Recordings resource documents them:
only an in-progress call can be recorded, pause/resume/stop change a live recording only,
a stopped recording is completed with its status callback and media, and deleting one
Twilio does not have is a 404 (which the app counts as deleted already)."""

from __future__ import annotations

import pytest

from holdless.twilio_gateway import TwilioRestException
from simulator.resources import CallResource

CALLBACK = "https://example.test/voice/recording/status?recording=1"


def _live_call(rt, twilio_api, status: str = "in-progress") -> str:
    sid = "CA" + "5" * 32
    twilio_api.store.add_call(CallResource(sid, rt.settings.twilio_account_sid, "+12125550000",
                                           "+12125550123", "inbound", status))
    return sid


def test_a_recording_starts_only_on_an_in_progress_call(rt, twilio_api):
    ringing = _live_call(rt, twilio_api, "ringing")
    with pytest.raises(TwilioRestException) as refused:
        rt.gateway.start_recording(ringing, CALLBACK)
    assert (refused.value.status, refused.value.code) == (400, 21220)
    with pytest.raises(TwilioRestException) as unknown:
        rt.gateway.start_recording("CA" + "6" * 32, CALLBACK)
    assert unknown.value.status == 404


def test_pause_resume_and_stop_then_the_completed_callback_carries_the_media(rt, twilio_api):
    call = _live_call(rt, twilio_api)
    sid = rt.gateway.start_recording(call, CALLBACK)
    created = twilio_api.requests("call-recording-create")[0]
    assert created.field("RecordingChannels") == "dual"
    assert created.form["RecordingStatusCallbackEvent"] == ["in-progress", "completed", "absent"]
    rt.gateway.set_recording_status(call, sid, "paused")
    rt.gateway.set_recording_status(call, sid, "in-progress")
    rt.gateway.set_recording_status(call, sid, "stopped")
    with pytest.raises(TwilioRestException) as over:
        rt.gateway.set_recording_status(call, sid, "paused")
    assert over.value.code == 21220
    assert sid in twilio_api.store.recordings  # completed: its media is kept
    assert twilio_api.call_recordings.by_sid[sid].status == "completed"


def test_deleting_a_recording_twice_is_a_404_the_gateway_counts_as_done(rt, twilio_api):
    call = _live_call(rt, twilio_api)
    sid = rt.gateway.start_recording(call, CALLBACK)
    twilio_api.end_recordings(call)
    assert rt.gateway.delete_recording(sid) is True
    assert sid not in twilio_api.store.recordings
    assert rt.gateway.delete_recording(sid) is False
    assert [r.status for r in twilio_api.requests("recording-delete")] == [204, 404]


def test_a_twilio_fault_on_delete_raises_so_the_job_retries(rt, twilio_api):
    call = _live_call(rt, twilio_api)
    sid = rt.gateway.start_recording(call, CALLBACK)
    twilio_api.fail_next("recording-delete")
    with pytest.raises(TwilioRestException) as fault:
        rt.gateway.delete_recording(sid)
    assert fault.value.status == 500
    assert rt.gateway.delete_recording(sid) is True
