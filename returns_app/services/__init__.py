"""Domain services: plain functions over a database handle, shared by pages and the JSON API."""
