"""The instructions checker's English messages (merchant_instructions/, Flask-free), for
`domain_messages.translate`: the portal and the API show them in the reader's language."""

from __future__ import annotations

from .message_marks import N_

TEMPLATES = (
    # merchant_instructions/raw_html.py: published only after "publish anyway"
    N_("raw HTML %(tag)s: customers will see it as text, not as formatting; use Markdown "
       "instead."),
    N_("a <script>: customers will see its code as text, and it never runs."),
    N_("a %(scheme)s: link: customers will see it as text, not as a link."),
    # merchant_instructions/document.py
    N_("The instructions are empty; write the return instructions for your customers below "
       "the closing --- line."),
    N_("The instructions are longer than %(max)s lines, and this is the first line past that: "
       "customers won't read that far, and it takes too long to prepare for them. Shorten "
       "them."),
    N_("The document is too complex to show to customers quickly: by this line it already "
       "needs more work than a whole document may (Markdown marks such as [, ![, * or ` by the "
       "thousand, or thousands of list items or lines). Shorten or simplify it from here on."),
    # merchant_instructions/decoding.py
    N_("The document must be UTF-8 text, but this line has a byte (%(byte)s) that is not "
       "UTF-8; save the file as UTF-8 and upload it again."),
    N_("The document must be UTF-8 text, but this line has a character that cannot be written "
       "as UTF-8; save the file as UTF-8 and upload it again."),
    N_("This line contains an invisible control character (%(code)s) that does not belong in "
       "text; delete it."),
    N_("The document contains binary content (such as NUL bytes), so it is not a text file; "
       "upload the Markdown document itself, saved as UTF-8 text."),
    N_("The document is %(size)s bytes; the largest document accepted is %(max)s bytes "
       "(256 KiB)."),
    # merchant_instructions/frontmatter.py
    N_("The document must start with front matter: a line with three dashes (---), the "
       "settings such as language and return_window_days, and another --- line before the "
       "instructions."),
    N_("The front matter that starts on line 1 is never closed; add a line with three dashes "
       "(---) after the last setting."),
    N_("The front matter is nested too deeply to be read."),
    N_("The front matter is not valid YAML (the YAML reader says: %(detail)s); check the "
       "colons, quotes and indentation on this line and the one before it."),
    N_("The front matter is not valid YAML; check the colons, quotes and indentation on this "
       "line and the one before it."),
    # merchant_instructions/settings.py (the longer of two variants first: the first match wins)
    N_("The front matter must be settings written as name: value, one per line, for example "
       "language: sv."),
    N_("%(name)s is missing; add it before the closing --- line, for example %(example)s."),
    N_("Each setting must start with a plain name, like language:."),
    N_("The setting %(key)s is set twice (first on line %(line)s); keep only one of them."),
    N_("The setting %(key)s is not one this document can have. Did you mean %(close)s? The "
       "settings are: %(known)s."),
    N_("The setting %(key)s is not one this document can have. The settings are: %(known)s."),
    N_("language must be \"sv\" (Swedish) or \"en\" (English), not %(value)s."),
    N_("%(field)s must be a whole number of days between %(low)s and %(high)s (Swedish law "
       "gives customers at least 14 days)."),
    N_("%(field)s must be a whole number of days between %(low)s and %(high)s."),
    N_("send_methods must list at least one way to send the parcel, chosen from post, drop_off "
       "and label, for example [post, drop_off]."),
    N_("send_methods has %(value)s, which is not a send method; use post, drop_off or label."),
    N_("send_methods lists %(value)s more than once; keep only one."),
    N_("return_address must be the address as text: write return_address: | and put each "
       "address line below it, indented."),
    N_("This return_address line is %(count)s characters long; each line may have at most "
       "%(max)s characters."),
    N_("return_address must have between %(low)s and %(high)s lines (name, street or box, "
       "postcode and town) but has %(count)s; write return_address: | and put each line below "
       "it, indented."),
    N_("non_returnable must be a list; each item is a description, or what: with an optional "
       "skus: list of patterns such as GC-*."),
    N_("non_returnable has %(count)s items; at most %(max)s are allowed."),
    N_("non_returnable item %(number)s must be a description, or what: with an optional skus: "
       "list of patterns."),
    N_("non_returnable item %(number)s has %(key)s, which is not allowed; use what and skus."),
    N_("non_returnable item %(number)s has %(key)s twice; keep only one."),
    N_("non_returnable item %(number)s needs what: with a description of the items."),
    N_("non_returnable item %(number)s must be a description in words, such as Gift cards."),
    N_("non_returnable item %(number)s has a description longer than %(max)s characters."),
    N_("non_returnable item %(number)s has skus that are not a list; write skus: "
       "[\"GC-*\"]."),
    N_("non_returnable item %(number)s has more than %(max)s skus patterns."),
    N_("non_returnable item %(number)s has the sku pattern %(pattern)s, which is not text; put "
       "it in quotes."),
    N_("non_returnable item %(number)s has an sku pattern that is not text; write patterns "
       "such as \"GC-*\"."),
    N_("non_returnable item %(number)s has an sku pattern longer than %(max)s characters."),
    N_("non_returnable item %(number)s has the sku pattern %(pattern)s, which contains a "
       "space."),
    N_("non_returnable item %(number)s has the sku pattern %(pattern)s, which matches every "
       "product; start it with a fixed prefix, such as \"GC-*\"."),
    # services/merchants.py: the language the merchant publishes in (one per direction, so
    # the languages' names are translated with the sentence)
    N_("The document says language: en, but it is being published as the Swedish version; "
       "change this line to language: sv, or publish it as the English version."),
    N_("The document says language: sv, but it is being published as the English version; "
       "change this line to language: en, or publish it as the Swedish version."),
)
