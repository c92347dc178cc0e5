"""The app's one payment provider client, built from configuration."""

from __future__ import annotations

from flask import Flask, current_app

from .client import ProviderClient


def provider(app: Flask | None = None) -> ProviderClient:
    app = app or current_app
    client = app.extensions.get("provider_client")
    if client is None:
        client = ProviderClient(app.config["PROVIDER_URL"])
        app.extensions["provider_client"] = client
    return client
