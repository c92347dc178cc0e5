"""The merchant's webhook endpoints through the API (the portal's webhook page uses the same
service): create one (its secret in that answer only), list, delete, rotate the secret."""

from __future__ import annotations

from flask import jsonify

from ..services import webhook_endpoints
from ..web.database_session import get_db
from ..webhooks.delivery import local_urls_allowed
from . import auth
from .blueprint import bp
from .routes import json_body


def _actor(merchant: dict) -> str:
    return f"merchant:{merchant['id']}:api"


@bp.post("/webhook-endpoints")
def create_webhook_endpoint():
    merchant = auth.merchant()
    data = json_body()
    endpoint, secret = webhook_endpoints.create(get_db(), merchant["id"], data.get("url"),
                                                data.get("events"), _actor(merchant),
                                                local_urls_allowed())
    return jsonify({**webhook_endpoints.as_api(endpoint), "secret": secret}), 201


@bp.get("/webhook-endpoints")
def list_webhook_endpoints():
    merchant = auth.merchant()
    return jsonify({"webhook_endpoints": [
        webhook_endpoints.as_api(e) for e in webhook_endpoints.endpoints(get_db(),
                                                                         merchant["id"])]})


@bp.delete("/webhook-endpoints/<id:endpoint_id>")
def delete_webhook_endpoint(endpoint_id: int):
    merchant = auth.merchant()
    endpoint = webhook_endpoints.delete(get_db(), merchant["id"], endpoint_id, _actor(merchant))
    return jsonify(webhook_endpoints.as_api(endpoint))


@bp.post("/webhook-endpoints/<id:endpoint_id>/rotate-secret")
def rotate_webhook_secret(endpoint_id: int):
    merchant = auth.merchant()
    secret = webhook_endpoints.rotate_secret(get_db(), merchant["id"], endpoint_id,
                                             _actor(merchant))
    endpoint = webhook_endpoints.get_endpoint(get_db(), merchant["id"], endpoint_id)
    return jsonify({**webhook_endpoints.as_api(endpoint), "secret": secret})
