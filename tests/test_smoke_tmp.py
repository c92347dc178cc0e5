from tests.builders import make_merchant, make_order, make_return


def test_flow(db, client):
    m, key = make_merchant(db)
    o = make_order(db, m["id"])
    r = make_return(db, o)
    assert r["status"] == "reported"
    resp = client.post("/api/v1/customer/session", json={"order_number": o["order_number"], "email": "kund@example.se"})
    assert resp.status_code == 201, resp.json
    tok = resp.json["token"]
    g = client.get(f"/api/v1/orders/{o['id']}", headers={"Authorization": f"Bearer {tok}"})
    print(g.json)
    assert g.json["amounts"]["paused"] == 29900
