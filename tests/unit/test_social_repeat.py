"""Repeat-contact detection on constructed contacts."""

from datetime import UTC, datetime, timedelta

from app.social.repeat import Contact, find_repeat_contacts

T = datetime(2026, 10, 1, 9, tzinfo=UTC)


def c(i, customer, day, channel, text):
    return Contact(interaction_id=i, customer_id=customer, channel=channel, started_at=T + timedelta(days=day), text=text)


def test_three_contacts_about_one_problem_in_a_week():
    contacts = [
        c(1, 7, 0, "call", "my broadband keeps dropping every evening"),
        c(2, 7, 1, "chat", "broadband dropping again tonight, still not fixed"),
        c(3, 7, 3, "social", "@brand third time I report my broadband dropping"),
        c(4, 7, 2, "email", "please update my postal address"),  # same customer, other topic
        c(5, 8, 0, "call", "broadband dropping"),  # other customer, only one contact
    ]
    cases = find_repeat_contacts(contacts)
    assert len(cases) == 1
    assert [x.interaction_id for x in cases[0].contacts] == [1, 2, 3]
    assert "broadband" in cases[0].shared_terms and cases[0].span_days == 3


def test_not_a_repeat_when_spread_out_or_about_different_things():
    spread = [c(1, 7, 0, "call", "broadband dropping"), c(2, 7, 8, "chat", "broadband dropping"),
              c(3, 7, 16, "call", "broadband dropping")]
    assert find_repeat_contacts(spread) == []
    different = [c(1, 7, 0, "call", "broadband dropping"), c(2, 7, 1, "chat", "change my address"),
                 c(3, 7, 2, "email", "new phone order")]
    assert find_repeat_contacts(different) == []
    assert len(find_repeat_contacts(spread, within_days=20)) == 1
