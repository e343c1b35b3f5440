"""Checking a keyed callback number against the line's regions: the check itself."""

from __future__ import annotations

import pytest

from ivr import callback_number


@pytest.mark.parametrize(("region", "keyed", "reason"), [
    ("ES", "901123456", "I cannot call shared cost numbers."),
    ("GB", "03001234567", "I cannot call company access numbers."),
    ("GB", "07012345678", "I cannot call personal forwarding numbers."),
    ("GB", "07640123456", "I cannot call pagers."),
    ("GB", "09012345678", "I cannot call premium rate numbers."),
    ("GB", "999", "I cannot call emergency numbers or short codes."),
    ("GB", "00447400123456", None),
    ("GB", "0012125550123", "I can only call you back on a number in the United Kingdom."),
])
def test_number_check_refuses_costly_types_in_other_regions(region, keyed, reason):
    result = callback_number.check(keyed, region, (region,))
    assert result.reason == (reason or "") and result.ok is (reason is None)


def test_allowed_regions_default_to_the_line_region():
    assert callback_number.allowed_regions("", "us") == ("US",)
    assert callback_number.allowed_regions("us, ca", "GB") == ("US", "CA")
