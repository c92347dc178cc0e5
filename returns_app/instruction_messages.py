"""The instructions checker's English messages (merchant_instructions/, Flask-free), for
`domain_messages.translate`: the portal and the API show them in the reader's language."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for extraction (pybabel's default keywords); translated when shown."""
    return message


TEMPLATES = (
    # merchant_instructions/raw_html.py: published only after "publish anyway"
    N_("raw HTML %(tag)s: customers will see it as text, not as formatting; use Markdown "
       "instead."),
    N_("a <script>: customers will see its code as text, and it never runs."),
    N_("a %(scheme)s: link: customers will see it as text, not as a link."),
    # merchant_instructions/document.py
    N_("The instructions are empty; write the return instructions for your customers below "
       "the closing --- line."),
)
