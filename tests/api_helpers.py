"""Small helpers shared by the JSON API tests: headers, the error shape, table counts."""

from __future__ import annotations


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_error(response, status: int, code: str) -> dict:
    """The contract's error shape: {"error": {"code", "message"}}. Returns the error object."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.content_type
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"].strip()
    return error


def count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def is_int(value) -> bool:
    """An integer in JSON terms: not a float, not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)
