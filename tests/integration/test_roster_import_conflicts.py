"""A roster's `conflicts` column: each `kind:email` becomes a declared conflict of interest,
checked against the file and the directory before anything is written."""

import test_roster_import

_upload = test_roster_import._upload
cycle = test_roster_import.cycle  # the same fixture: an open cycle and its coordinator

HEADER = "name,email,role,training_level,capacity,conflicts"
MENTORS = [
    "Sam Senior,sam@example.org,mentor,PGY5,2,",
    "Tia Teacher,tia@example.org,mentor,PGY6,2,",
]


def _csv(*rows: str) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode()


def _conflicts(client, admin, cycle) -> dict[str, set[tuple[str, str]]]:
    roster = client.get(f"/api/cycles/{cycle['id']}/enrollments", headers=admin).json
    name_of = {e["person_id"]: e["name"] for e in roster}
    return {
        e["name"]: {
            (name_of[c["other_person_id"]], c["kind"])
            for c in client.get(f"/api/enrollments/{e['id']}/conflicts", headers=admin).json
        }
        for e in roster
    }


def test_conflicts_in_the_roster_are_declared_once(client, admin, cycle, stored_events):
    rows = [
        *MENTORS,
        'Ana Junior,ana@example.org,mentee,PGY1,,"supervisor:sam@example.org; Other:TIA@example.org"',
    ]
    first = _upload(client, cycle, _csv(*rows))
    assert first.status_code == 200, first.json
    declared = _conflicts(client, admin, cycle)
    assert declared["Ana Junior"] == {("Sam Senior", "supervisor"), ("Tia Teacher", "personal")}
    assert declared["Sam Senior"] == set()
    events = stored_events()
    again = _upload(client, cycle, _csv(*rows))
    assert again.json["unchanged"] == 3
    assert stored_events() == events
    # A conflict added later to an unchanged person counts as an update.
    rows[1] = "Tia Teacher,tia@example.org,mentor,PGY6,2,assessor:ana@example.org"
    third = _upload(client, cycle, _csv(*rows))
    assert (third.json["updated"], third.json["unchanged"]) == (1, 2)
    assert _conflicts(client, admin, cycle)["Tia Teacher"] == {("Ana Junior", "assessor")}


def test_a_conflict_with_someone_unknown_is_refused_with_its_line(client, cycle, stored_events):
    before = stored_events()
    reply = _upload(
        client,
        cycle,
        _csv(*MENTORS, "Ana Junior,ana@example.org,mentee,PGY1,,supervisor:zed@x.org"),
    )
    assert reply.status_code == 422
    problems = reply.json["errors"]["rows"]
    assert [(p["line"], p["column"]) for p in problems] == [(4, "conflicts")]
    assert "zed@x.org" in problems[0]["message"]
    assert stored_events() == before
