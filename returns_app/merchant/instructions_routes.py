"""Return instructions: the published versions, and publishing a new one through a preview."""

from __future__ import annotations

import contextlib

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from merchant_instructions import MAX_DOCUMENT_BYTES

from ..domain.errors import Invalid, TooLarge
from ..services import merchants
from ..web.database_session import get_db
from .access import current_actor, current_merchant_id, merchant_required
from .blueprint import bp
from .forms import EditInstructionsForm, PublishInstructionsForm, UploadInstructionsForm


def _language(value: str | None) -> str:
    return value if value in ("sv", "en") else "sv"


@bp.get("/instructions")
@merchant_required
def instructions():
    versions = merchants.instructions_versions(get_db(), current_merchant_id())
    # Without a choice: the language last published in, which is where edits usually go.
    language = _language(request.args.get("language")
                         or (versions[0]["language"] if versions else None))
    source = merchants.current_source(get_db(), current_merchant_id(), language)
    edit = EditInstructionsForm(formdata=None, language=language, source=source or "")
    upload = UploadInstructionsForm(formdata=None, language=language)
    return render_instructions(edit, upload)


def render_instructions(edit: EditInstructionsForm, upload: UploadInstructionsForm,
                        problems: list[dict] | None = None, problems_in: str = "",
                        status: int = 200):
    """`problems_in` names the form ("edit" or "upload") the problems belong next to."""
    return render_template(
        "merchant/instructions.html", edit=edit, upload=upload, problems=problems or [],
        problems_in=problems_in,
        versions=merchants.instructions_versions(get_db(), current_merchant_id()),
        max_kb=MAX_DOCUMENT_BYTES // 1024,
    ), status


def _preview_or_problems(text: str | bytes, language: str, edit: EditInstructionsForm,
                         upload: UploadInstructionsForm, problems_in: str):
    try:
        preview = merchants.preview_instructions(get_db(), current_merchant_id(), text,
                                                 language)
    except TooLarge as exc:
        return render_instructions(edit, upload, [{"line": None, "message": exc.message}],
                                   problems_in, 413)
    except Invalid as exc:
        return render_instructions(edit, upload, exc.details.get("problems") or [
            {"line": None, "message": exc.message}], problems_in, 422)
    form = PublishInstructionsForm(formdata=None, language=language, source=preview["source"])
    return render_template("merchant/instructions_preview.html", preview=preview, form=form)


@bp.post("/instructions/preview")
@merchant_required
def preview_edited():
    edit = EditInstructionsForm()
    upload = UploadInstructionsForm(formdata=None, language=edit.language.data)
    if not edit.validate_on_submit():
        return render_instructions(edit, upload, status=422)
    return _preview_or_problems(edit.source.data, edit.language.data, edit, upload, "edit")


@bp.post("/instructions/upload")
@merchant_required
def preview_uploaded():
    upload = UploadInstructionsForm()
    language = _language(upload.language.data)
    source = merchants.current_source(get_db(), current_merchant_id(), language) or ""
    edit = EditInstructionsForm(formdata=None, language=language, source=source)
    if not upload.validate_on_submit():
        return render_instructions(edit, upload, status=422)
    raw = upload.document.data.read(MAX_DOCUMENT_BYTES + 1)
    # An upload with problems lands in the editor, to be fixed there, not chosen again.
    with contextlib.suppress(UnicodeDecodeError):
        edit.source.data = raw.decode("utf-8")
    return _preview_or_problems(raw, language, edit, upload, "upload")


@bp.post("/instructions/publish")
@merchant_required
def publish():
    form = PublishInstructionsForm()
    if not form.validate_on_submit():
        flash(_("The preview had expired; check the document and preview it again."), "error")
        return redirect(url_for(".instructions"), 303)
    edit = EditInstructionsForm(formdata=None, language=form.language.data,
                                source=form.source.data)
    if request.form.get("action") == "edit":
        return render_instructions(edit, UploadInstructionsForm(formdata=None,
                                                                language=form.language.data))
    try:
        preview = merchants.preview_instructions(get_db(), current_merchant_id(),
                                                 form.source.data, form.language.data)
        if preview["warnings"] and not form.publish_anyway.data:
            # The same preview again, the document kept: publish anyway or go back to edit.
            form.publish_anyway.errors = [_("Tick this to publish with the warnings, or go "
                                            "back to editing and fix the lines named.")]
            return render_template("merchant/instructions_preview.html", preview=preview,
                                   form=form), 422
        version = merchants.publish_instructions(get_db(), current_merchant_id(),
                                                 form.source.data, current_actor(),
                                                 language=form.language.data)
    except (Invalid, TooLarge) as exc:
        upload = UploadInstructionsForm(formdata=None, language=form.language.data)
        return render_instructions(edit, upload, exc.details.get("problems") or [
            {"line": None, "message": exc.message}], "edit", 422)
    flash(_("Version %(version)s is published. Customers reporting a return from now on see "
            "it.", version=version["version"]), "success")
    return redirect(url_for(".instructions", language=version["language"]), 303)
