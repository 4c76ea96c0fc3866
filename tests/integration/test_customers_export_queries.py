"""The customers list and its CSV export read the identities of all listed customers at once, not one query
per customer (an export of 100,000 customers used to send 100,000 queries)."""

import csv
import io

from sqlalchemy import event

from app.interactions import customers
from app.interactions.models import Customer, CustomerIdentity
from tests.conftest import sign_in


def _identity_queries(db_engine, run):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "from customer_identity" in statement.lower():
            statements.append(statement)

    event.listen(db_engine, "before_cursor_execute", count)
    try:
        result = run()
    finally:
        event.remove(db_engine, "before_cursor_execute", count)
    return result, statements


def test_export_reads_identities_in_one_query(client, session, make_user, db_engine):
    make_user("evaluator", username="eva")
    for number in range(40):
        customer = Customer(display_name=f"Customer {number:02d}")
        session.add(customer)
        session.flush()
        session.add(CustomerIdentity(customer_id=customer.id, kind="email", value=f"c{number:02d}@example.com"))
        if number % 2:
            session.add(CustomerIdentity(customer_id=customer.id, kind="phone", value=f"+4477009000{number:02d}"))
    session.add(Customer(display_name="No identity at all"))
    session.commit()
    sign_in(client, "eva")
    response, statements = _identity_queries(db_engine, lambda: client.get("/customers", params={"format": "csv"}))
    assert response.status_code == 200
    rows = {row[1]: row[2] for row in csv.reader(io.StringIO(response.text))}
    assert rows["Customer 07"] == "email: c07@example.com; phone: +447700900007"
    assert rows["Customer 08"] == "email: c08@example.com" and rows["No identity at all"] == ""
    assert len(statements) == 1, statements
    page, statements = _identity_queries(db_engine, lambda: client.get("/customers"))
    assert "c07@example.com" in page.text and len(statements) == 1


def test_identities_by_customer_matches_the_single_customer_lookup(session, monkeypatch):
    monkeypatch.setattr(customers, "IDENTITY_LOOKUP_CHUNK", 3)  # several chunks, same answer
    ids = []
    for number in range(7):
        customer = Customer(display_name=f"C{number}")
        session.add(customer)
        session.flush()
        ids.append(customer.id)
        for kind, value in (("phone", f"+44770090{number:04d}"), ("email", f"z{number}@example.com"))[:number % 3]:
            session.add(CustomerIdentity(customer_id=customer.id, kind=kind, value=value))
    session.flush()
    together = customers.identities_by_customer(session=session, customer_ids=ids)
    assert list(together) == ids
    for customer_id in ids:
        assert together[customer_id] == customers.customer_identities(session=session, customer_id=customer_id)
