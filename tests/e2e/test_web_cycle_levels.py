"""The eligible-levels form of the pairing page, end to end: refusals come back on their fields,
a preview records nothing, and saved levels replace the run form's gap."""

from __future__ import annotations

import pytest
from live import seed_program

pytestmark = [pytest.mark.kafka]

HTMX = {"HX-Request": "true"}


def test_levels_refused_field_by_field_then_saved(live_suite):
    program = seed_program(live_suite, mentors=1, mentees=2)
    path = f"/coordinator/cycles/{program.cycle_id}/pairing"
    web = live_suite.browser_session(program.coordinator["email"])
    assert 'id="levels"' in web.get(path).text

    bad = {"mentee_levels": "intern", "mentor_levels": "PGY4", "min_level_gap": "11"}
    refused = web.form(f"{path}/levels", bad, headers=HTMX)
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#levels"
    assert 'id="levels-min_level_gap" name="min_level_gap"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert 'href="#levels-mentee_levels"' in refused.text

    preview = web.form(f"{path}/levels/preview", {"mentee_levels": "PGY2", "min_level_gap": "1"},
                       headers=HTMX)  # fmt: skip
    assert preview.status_code == 200
    assert "PGY1 is not an eligible mentee level for this cycle" in preview.text
    rules = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/level-rules")
    assert not rules["is_set"]

    saved = web.form(f"{path}/levels", {"mentee_levels": "PGY1", "mentor_levels": "PGY4",
                                        "min_level_gap": "1"})  # fmt: skip
    assert saved.status_code in (200, 303)
    page = web.get(path).text
    assert 'id="run-min_level_gap"' not in page and "eligible levels</a>" in page
    rules = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/level-rules")
    assert rules["is_set"] and rules["rules"]["mentee_levels"] == ["PGY1"]
