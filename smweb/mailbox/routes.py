"""The patient's mailbox: folders (their own among them), moving threads between them, and
search (for staff too)."""

from flask import abort, current_app, flash, g, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from ..auth.guards import messaging_user_required, patient_messaging_required
from ..forms import EmptyForm
from ..models import CATEGORIES
from ..parsing import as_ids, local_path
from ..services import access, folders, mailbox
from ..services import search as search_service
from ..services.paging import Page
from ..templating import (
    cursor_arg,
    fragment_request,
    list_version,
    page_number,
    redirect_to,
    render_page,
    unchanged_poll,
)
from . import bp
from .forms import FolderForm


@bp.get("/mailbox/<folder>")
@patient_messaging_required
def folder(folder: str):
    """A folder of the patient's mailbox: Inbox, Sent, Drafts or Deleted."""
    if folder not in mailbox.FOLDERS:
        abort(404)
    page, sort = _folder_page(folder)
    version = list_version(page.items, *mailbox.SHOWN[folder])
    if unchanged_poll("message-list", version):
        return "", 204
    # The Inbox's first page opens with what waits (not its list's refreshes, nor paging).
    summary = mailbox.summary(current_user, getattr(g.get("user_session"), "id", None)) \
        if folder == "inbox" and page.number == 1 and not fragment_request("message-list") \
        else None
    return render_page(
        "mailbox/folder.html", fragment="message_list", target="message-list", folder=folder,
        page=page, folder_title=str(mailbox.FOLDERS[folder]), version=version, sort=sort,
        sorts=mailbox.SORTS, summary=summary,
    )


def _folder_page(folder: str, custom=None) -> tuple[Page, str]:
    """The page of a folder the URL asks for, and its sort."""
    sort = request.args.get("sort", "newest")
    if sort not in mailbox.SORTS:
        sort = "newest"
    page = mailbox.folder_page(
        current_user, folder, page_number(), current_app.config["PAGE_SIZE"], sort,
        custom=custom, after=cursor_arg("after"), before=cursor_arg("before"))
    return page, sort


@bp.get("/mailbox/folders/<id:folder_id>")
@patient_messaging_required
def custom_folder(folder_id: int):
    """One of the patient's own folders."""
    folder = folders.get_folder_for(current_user, folder_id)
    page, sort = _folder_page("custom", folder)
    version = list_version(page.items, *mailbox.SHOWN["custom"])
    if unchanged_poll("message-list", version):
        return "", 204
    return render_page(
        "mailbox/folder.html", fragment="message_list", target="message-list", folder="custom",
        page=page, folder_title=folder.name, version=version, sort=sort, sorts=mailbox.SORTS,
        custom=folder, summary=None,
    )


@bp.route("/folders", methods=["GET", "POST"])
@patient_messaging_required
def manage_folders():
    """Create, rename and remove the patient's own folders."""
    form = FolderForm()
    status = 200
    if form.validate_on_submit():
        try:
            folders.create(current_user, form.name.data)
        except folders.FolderError as refusal:
            form.name.errors.append(str(refusal))
            status = 422
        else:
            flash(gettext("The folder %(name)s was created.", name=form.name.data.strip()),
                  "success")
            return redirect_to(url_for("mailbox.manage_folders"))
    elif form.is_submitted():
        status = 422
    return render_page("mailbox/folders.html", status=status, form=form,
                       rows=folders.folders_of(current_user), action_form=EmptyForm())


@bp.post("/folders/<id:folder_id>/rename")
@patient_messaging_required
def rename_folder(folder_id: int):
    """Give a folder a new name."""
    folder = folders.get_folder_for(current_user, folder_id)
    form = FolderForm()
    if form.validate_on_submit():
        try:
            folders.rename(current_user, folder, form.name.data)
        except folders.FolderError as refusal:
            flash(str(refusal), "error")
        else:
            flash(gettext("The folder is now called %(name)s.", name=folder.name), "success")
    else:
        flash(" ".join(str(e) for e in form.name.errors) or gettext("Enter a name for the folder."),
              "error")
    return redirect_to(url_for("mailbox.manage_folders"))


@bp.post("/folders/<id:folder_id>/delete")
@patient_messaging_required
def remove_folder(folder_id: int):
    """Remove an empty folder."""
    folder = folders.get_folder_for(current_user, folder_id)
    if EmptyForm().validate_on_submit():
        try:
            name = folder.name
            folders.remove(folder)
        except folders.FolderError as refusal:
            flash(str(refusal), "error")
        else:
            flash(gettext("The folder %(name)s was removed.", name=name), "success")
    return redirect_to(url_for("mailbox.manage_folders"))


@bp.post("/mailbox/move")
@patient_messaging_required
def move_threads():
    """Move one or several threads to the Inbox, a folder, or Deleted."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ids = as_ids(request.form.getlist("thread_ids"))
    back = _safe_back(request.form.get("back"))
    if not ids:
        flash(gettext("Select at least one conversation to move."), "error")
        return redirect_to(back)
    threads = [access.get_thread_for(current_user, i) for i in ids]
    try:
        moved, where = folders.move(current_user, threads, request.form.get("destination", ""))
    except folders.FolderError as refusal:
        flash(str(refusal), "error")
    else:
        # (Inbox and Deleted come in the page's language; a patient's folder by its name)
        flash(ngettext("The conversation was moved to %(place)s.",
                       "%(num)d conversations were moved to %(place)s.", moved, place=where),
              "success")
    return redirect_to(back)


def _safe_back(target: str | None) -> str:
    """Back to the list (or the thread) the patient moved from; only a path of this site."""
    return local_path(target, ("/mailbox/", "/threads/")) or url_for("mailbox.folder",
                                                                     folder="inbox")


@bp.get("/search")
@messaging_user_required
def search():
    """Search your messages (patients: their own; staff: their care teams')."""
    query, errors = search_service.parse(request.args)
    page = None
    if not errors and not query.is_empty:
        page = search_service.search(current_user, query, page_number(),
                                     current_app.config["PAGE_SIZE"],
                                     after=cursor_arg("after"), before=cursor_arg("before"))
    args = {k: v for k in search_service.FIELDS if (v := request.args.get(k))}
    return render_page(
        "mailbox/search.html", 422 if errors else 200, fragment="search_results",
        target="search-results", query=query, errors=errors, page=page, args=args,
        periods=search_service.PERIODS, categories=CATEGORIES, snippet=search_service.snippet,
    )
