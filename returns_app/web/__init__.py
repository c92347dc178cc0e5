"""Flask glue shared by every blueprint: sign-in sessions, errors as pages and API answers,
languages and filters, the kept-page cache, proxies, request logs and the operations endpoints."""
