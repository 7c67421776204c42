"""Personal fields sealed under their person's key, and what readers see once it is gone."""

import marshmallow as ma
import pytest

from services.eventkit.personal import (
    ERASED,
    MARK,
    Personal,
    erased_email,
    is_sealed,
    new_key,
    open_value,
    protect,
    reveal,
    seal_value,
)
from services.eventkit.registry import Registry

PERSON = Personal("person_id", ("name", "email", "identity", "interests"))
PAYLOAD = {
    "person_id": "p-1",
    "name": "Ada Quillfeather",
    "email": "ada@example.org",
    "identity": {"gender": "woman"},
    "interests": ["cardiology"],
    "training_level": "PGY1",
}


def _keys(key, erased=False):
    return lambda person_id: (None if erased else key, erased)


@pytest.mark.parametrize("value", ["Ada", "", {"a": "b"}, ["x", "y"], 42])
def test_a_sealed_value_opens_to_what_was_sealed(value):
    key = new_key()
    token = seal_value(key, "p-1", "name", value)
    assert token.startswith(MARK) and is_sealed(token)
    assert open_value(key, "p-1", "name", token) == (value, True)


def test_ciphertext_holds_no_plaintext_and_differs_each_time():
    key = new_key()
    first, second = (seal_value(key, "p-1", "name", "Ada Quillfeather") for _ in range(2))
    assert "Ada" not in first and first != second


def test_a_value_moved_to_another_person_or_field_does_not_open():
    key = new_key()
    token = seal_value(key, "p-1", "name", "Ada")
    assert open_value(key, "p-2", "name", token) == (ERASED, False)
    assert open_value(key, "p-1", "pronouns", token) == (ERASED, False)
    assert open_value(new_key(), "p-1", "name", token) == (ERASED, False)


def test_without_its_key_each_kind_reads_as_its_placeholder():
    key = new_key()
    stored = protect(PERSON, PAYLOAD, lambda _: key)
    shown, hidden = reveal(PERSON, stored, _keys(None, erased=True))
    assert shown == {
        "person_id": "p-1",
        "name": ERASED,
        "email": "erased-p-1@erased.invalid",
        "identity": None,
        "interests": [],
        "training_level": "PGY1",
    }
    assert hidden == ("name", "email", "identity", "interests")


def test_protect_seals_only_the_declared_fields_and_reveal_restores_them():
    key = new_key()
    stored = protect(PERSON, PAYLOAD, lambda _: key)
    assert all(is_sealed(stored[f]) for f in PERSON.fields)
    assert stored["training_level"] == "PGY1" and stored["person_id"] == "p-1"
    assert "Quillfeather" not in str(stored) and "ada@" not in str(stored)
    assert reveal(PERSON, stored, _keys(key)) == (PAYLOAD, ())


def test_an_erased_person_gets_placeholders_written_never_their_data():
    stored = protect(PERSON, PAYLOAD, lambda _: None)
    assert stored["name"] == ERASED and stored["email"] == erased_email("p-1")
    assert "Quillfeather" not in str(stored)


def test_plaintext_from_before_sealing_reads_as_written_until_its_person_is_erased():
    assert reveal(PERSON, PAYLOAD, _keys(None)) == (PAYLOAD, ())
    shown, hidden = reveal(PERSON, PAYLOAD, _keys(None, erased=True))
    assert shown["name"] == ERASED and shown["identity"] is None
    assert "name" in hidden and shown["training_level"] == "PGY1"


def test_events_without_personal_fields_pass_untouched():
    payload = {"person_id": "p-1", "training_level": "PGY1"}
    assert protect(PERSON, payload, lambda _: pytest.fail("no key needed")) == payload
    assert reveal(None, PAYLOAD, lambda _: pytest.fail("no lookup")) == (PAYLOAD, ())


def test_erased_emails_stay_unique():
    assert erased_email("p-1") != erased_email("p-2")


def test_a_contract_cannot_declare_personal_fields_its_schema_lacks():
    class Thing(ma.Schema):
        person_id = ma.fields.String()
        name = ma.fields.String()

    registry = Registry()
    with pytest.raises(ValueError, match="nickname"):
        registry.register("Thing", Thing, personal=Personal("person_id", ("name", "nickname")))
