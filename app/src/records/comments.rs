//! A record's comments (`tern_domain::record::comments`): threads on
//! passages of its text and on the record as a whole, with replies, resolve
//! and reopen, the author's edit and delete and the secretariat's hiding,
//! filtered to open, mine or resolved; and the form for a new comment on
//! the words a user selected (`super::discussion`).
//!
//! In the `comments` module. Threads are read again once the record's
//! changes have settled for a moment, not on every keystroke nor while
//! someone types: resolving 200 anchors is a task of its own.

use super::discussion::{text_box, use_discussion, Passage};
use crate::i18n::*;
use crate::labels;
use crate::session::use_session;
use crate::store::{new_item_id, use_workspace};
use leptos::html;
use leptos::prelude::*;
use std::collections::HashMap;
use std::time::Duration;
use tern_domain::record::{
    Anchor, Comment, CommentError, FieldPath, ItemId, Record, RecordId, RecordKind, Thread,
};

type I18n = leptos_i18n::I18nContext<Locale>;

/// How long after a change the threads are read again.
const SETTLE: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Filter {
    Open,
    Mine,
    Resolved,
}

const FILTERS: [Filter; 3] = [Filter::Open, Filter::Mine, Filter::Resolved];

/// A thread as the panel shows it: where it is, in the record's numbering.
#[derive(Clone, PartialEq)]
struct Shown {
    thread: Thread,
    /// "2.1" for a paragraph, the field's name for a top-level text.
    place: String,
    /// The top-level item it is in (a section), for the counts.
    item: Option<ItemId>,
    /// Document order.
    order: Vec<usize>,
}

fn read_threads(record: &Record, kind: RecordKind, i18n: I18n) -> Vec<Shown> {
    let top_fields: Vec<&str> = kind.def().fields.iter().map(|field| field.key).collect();
    let mut shown: Vec<Shown> = record
        .threads()
        .into_iter()
        .map(|thread| {
            let (place, item, order) = match &thread.path {
                Some(path) => place_of(record, kind, i18n, path, &top_fields),
                None => (String::new(), None, vec![usize::MAX]),
            };
            Shown {
                thread,
                place,
                item,
                order,
            }
        })
        .collect();
    shown.sort_by(|a, b| {
        (&a.order, a.thread.comments[0].by.at).cmp(&(&b.order, b.thread.comments[0].by.at))
    });
    shown
}

/// Where a path is, as a reader names it, and its order in the record.
fn place_of(
    record: &Record,
    kind: RecordKind,
    i18n: I18n,
    path: &FieldPath,
    top_fields: &[&str],
) -> (String, Option<ItemId>, Vec<usize>) {
    let mut order = Vec::new();
    let mut numbers = Vec::new();
    for (depth, (key, item)) in path.items.iter().enumerate() {
        // The list at this depth: its field, inside the items walked so far.
        let list = FieldPath {
            items: path.items[..depth].to_vec(),
            field: key,
        };
        let position = record
            .item_ids(&list)
            .iter()
            .position(|known| known == item)
            .unwrap_or(usize::MAX - 1);
        if depth == 0 {
            order.push(
                top_fields
                    .iter()
                    .position(|field| field == key)
                    .unwrap_or(0),
            );
        }
        order.push(position);
        numbers.push((position + 1).to_string());
    }
    if path.items.is_empty() {
        order.push(
            top_fields
                .iter()
                .position(|field| *field == path.field)
                .unwrap_or(0),
        );
        return (labels::field(i18n, kind, path), None, order);
    }
    let item = path.items.first().map(|(_, item)| item.clone());
    (format!("§ {}", numbers.join(".")), item, order)
}

/// Runs `read` at once, then whenever the workspace's changes have settled:
/// not while someone types (each change puts the reading off again).
pub(super) fn read_when_settled(
    workspace: crate::store::Workspace,
    read: impl Fn() + Copy + 'static,
) {
    let changes = StoredValue::new(0u64);
    Effect::new(move |first: Option<()>| {
        workspace.revision.track();
        if first.is_none() {
            untrack(read);
            return;
        }
        let seen = changes.get_value() + 1;
        changes.set_value(seen);
        set_timeout(
            move || {
                if changes.try_get_value() == Some(seen) {
                    untrack(read);
                }
            },
            SETTLE,
        );
    });
}

#[component]
pub fn CommentsPanel(id: RecordId, kind: RecordKind) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let discussion = use_discussion();
    let threads = RwSignal::new(Vec::<Shown>::new());
    let read = move || {
        let read = workspace
            .with_record(id, |record| read_threads(record, kind, i18n))
            .unwrap_or_default();
        if let Some(discussion) = discussion {
            let mut counts: HashMap<ItemId, usize> = HashMap::new();
            for shown in read.iter().filter(|shown| shown.thread.is_open()) {
                if let Some(item) = &shown.item {
                    *counts.entry(item.clone()).or_default() += 1;
                }
            }
            if discussion.open_per_item.get_untracked() != counts {
                discussion.open_per_item.set(counts);
            }
        }
        if threads.with_untracked(|known| *known != read) {
            threads.set(read);
        }
    };
    read_when_settled(workspace, read);
    let filter = RwSignal::new(Filter::Open);
    let me = move || {
        session
            .identity
            .with(|identity| identity.as_ref().map(|me| me.user.0.clone()))
            .unwrap_or_default()
    };
    let visible = Memo::new(move |_| {
        let me = me();
        threads.with(|threads| {
            threads
                .iter()
                .filter(|shown| match filter.get() {
                    Filter::Open => shown.thread.is_open(),
                    Filter::Mine => shown.thread.involves(&me),
                    Filter::Resolved => !shown.thread.is_open(),
                })
                .cloned()
                .collect::<Vec<Shown>>()
        })
    });
    let open_count =
        move || threads.with(|threads| threads.iter().filter(|t| t.thread.is_open()).count());
    let may_comment = move || session.can_edit();
    let general = RwSignal::new(false);
    let asked = discussion.map(|discussion| discussion.asked);
    let filter_label = move |filter: Filter| match filter {
        Filter::Open => t_string!(i18n, comments_open),
        Filter::Mine => t_string!(i18n, comments_mine),
        Filter::Resolved => t_string!(i18n, comments_resolved),
    };
    view! {
        <section class="comments" aria-labelledby="comments-heading">
            <h2 id="comments-heading">
                {move || t_string!(i18n, comments_heading)}
                " " <span class="count">{move || format!("({})", open_count())}</span>
            </h2>
            <div class="comment-filters" role="group" aria-label=move || t_string!(i18n, comments_filter)>
                {FILTERS.into_iter().map(|option| view! {
                    <button type="button" class="quiet" aria-pressed=move || (filter.get() == option).to_string()
                        on:click=move |_| filter.set(option)>
                        {move || filter_label(option)}
                    </button>
                }).collect_view()}
            </div>
            {move || asked.and_then(|asked| asked.get()).map(|passage| {
                let asked = asked.expect("asked is set");
                view! { <NewComment id passage=Some(passage) done=Callback::new(move |()| asked.set(None)) /> }
            })}
            <Show when=move || general.get()>
                <NewComment id passage=None done=Callback::new(move |()| general.set(false)) />
            </Show>
            <Show when=move || may_comment() && !general.get()>
                <button type="button" class="quiet comment-general" on:click=move |_| general.set(true)>
                    {move || t_string!(i18n, comment_on_record)}
                </button>
            </Show>
            <Show when=move || visible.with(Vec::is_empty)>
                <p class="hint">{move || t_string!(i18n, comments_none)}</p>
            </Show>
            <ol class="threads">
                <For each=move || visible.get() key=|shown| (shown.thread.id.clone(), shown.thread.comments.clone(), shown.thread.resolved.clone(), shown.thread.anchor.clone(), shown.place.clone()) let:shown>
                    <ThreadView id shown />
                </For>
            </ol>
        </section>
        <super::suggestions::Suggestions id filter />
    }
}

/// The form for a new comment, on a passage or on the record.
#[component]
fn NewComment(id: RecordId, passage: Option<Passage>, done: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let label = match &passage {
        Some(passage) => format!(
            "{} “{}”",
            t_string!(i18n, comment_on_passage),
            passage.quote
        ),
        None => t_string!(i18n, comment_on_record).to_owned(),
    };
    let back_to = passage.as_ref().map(|passage| passage.path.clone());
    let submit = Callback::new(move |comment: String| {
        let key = new_item_id().0[..12].to_owned();
        workspace
            .discuss(id, |record, me| {
                let passage = passage.as_ref().map(|p| (&p.path, p.start, p.end));
                record.comment_on(passage, &key, me, &comment)
            })
            .unwrap_or(Err(CommentError::NotYours))
            .map_err(|problem| comment_error(i18n, &problem))
    });
    view! {
        <NoteForm name=t_string!(i18n, comment_new).to_owned() dom_id="new-comment-text" label
            initial=String::new() button=t_string!(i18n, comment_post).to_owned() submit done back_to />
    }
}

/// A form for a new note on the text (a comment, a suggestion): a text box
/// that takes the focus, Ctrl/Cmd+Enter to send and Escape to cancel; the
/// focus goes back to the text field `back_to` when done.
#[component]
pub(super) fn NoteForm(
    /// The form's accessible name.
    name: String,
    dom_id: &'static str,
    label: String,
    /// The text box's first text, selected.
    initial: String,
    button: String,
    /// Sends the text; a refusal's message.
    submit: Callback<String, Result<(), String>>,
    done: Callback<()>,
    back_to: Option<FieldPath>,
) -> impl IntoView {
    let i18n = use_i18n();
    let text = RwSignal::new(initial);
    let error = RwSignal::new(None::<String>);
    let area = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(area) = area.get() {
            let _ = area.focus();
            area.select();
        }
    });
    let back_to = StoredValue::new(back_to);
    let finish = move || {
        done.run(());
        if let Some(element) = back_to.with_value(|path| path.as_ref().and_then(text_box)) {
            let _ = element.focus();
        }
    };
    let send = move || match submit.run(text.get_untracked()) {
        Ok(()) => finish(),
        Err(problem) => error.set(Some(problem)),
    };
    view! {
        <form class="new-comment" aria-label=name on:submit=move |event| { event.prevent_default(); send(); }>
            <label for=dom_id>{label}</label>
            <textarea id=dom_id rows="3" node_ref=area
                aria-invalid=move || error.with(Option::is_some).to_string()
                prop:value=move || text.get()
                on:input=move |event| { text.set(event_target_value(&event)); error.set(None); }
                on:keydown=move |event| {
                    if event.key() == "Escape" { event.prevent_default(); finish(); }
                    if event.key() == "Enter" && (event.ctrl_key() || event.meta_key()) { event.prevent_default(); send(); }
                }></textarea>
            <p class="field-error" role="alert">{move || error.get()}</p>
            <p class="actions">
                <button type="submit">{button}</button>
                <button type="button" class="quiet" on:click=move |_| finish()>{move || t_string!(i18n, comment_cancel)}</button>
            </p>
        </form>
    }
}

pub(crate) fn comment_error(i18n: I18n, error: &CommentError) -> String {
    match error {
        CommentError::Empty => t_string!(i18n, comment_error_empty).to_owned(),
        CommentError::TooLong { max } => {
            format!("{} {max}", t_string!(i18n, comment_error_too_long))
        }
        CommentError::NoPassage => t_string!(i18n, comment_select_first).to_owned(),
        CommentError::NoSuchText | CommentError::NoSuchComment => {
            t_string!(i18n, comment_error_gone).to_owned()
        }
        CommentError::NotYours => t_string!(i18n, comment_error_not_yours).to_owned(),
    }
}

#[component]
fn ThreadView(id: RecordId, shown: Shown) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let Shown { thread, place, .. } = shown;
    let thread_id = thread.id.clone();
    let resolved = thread.resolved.clone();
    let is_resolved = resolved.is_some();
    let error = RwSignal::new(None::<String>);
    let report = move |outcome: Result<(), CommentError>| {
        error.set(outcome.err().map(|problem| comment_error(i18n, &problem)));
    };
    let passage = match &thread.anchor {
        Anchor::Record => None,
        Anchor::Text { text, .. } => Some((text.clone(), None)),
        Anchor::Deleted => Some((
            thread.quote.clone(),
            Some(t_string!(i18n, comment_passage_deleted)),
        )),
        Anchor::Removed => Some((
            thread.quote.clone(),
            Some(t_string!(i18n, comment_passage_removed)),
        )),
        Anchor::Waiting => Some((
            thread.quote.clone(),
            Some(t_string!(i18n, comment_passage_waiting)),
        )),
    };
    // Where the passage is now, read when asked: the list is read again
    // only a moment after a change.
    let show_in_text = matches!(thread.anchor, Anchor::Text { .. }).then(|| {
        let thread_id = thread_id.clone();
        move |_| {
            let found = workspace.with_record(id, |record| {
                record
                    .threads()
                    .into_iter()
                    .find(|known| known.id == thread_id)
            });
            if let Some(Some(Thread {
                anchor: Anchor::Text { start, end, .. },
                path: Some(path),
                ..
            })) = found
            {
                if let Some(element) = text_box(&path) {
                    let _ = element.focus();
                    let _ = element.set_selection_range(start, end);
                }
            }
        }
    });
    let toggle = {
        let thread_id = thread_id.clone();
        let open = resolved.is_none();
        move |_| {
            report(
                workspace
                    .discuss(id, |record, me| {
                        Ok(record.set_resolved(&thread_id, me, open))
                    })
                    .unwrap_or(Err(CommentError::NotYours)),
            )
        }
    };
    let replying = RwSignal::new(false);
    let reply_text = RwSignal::new(String::new());
    let send_reply = {
        let thread_id = thread_id.clone();
        move || {
            let text = reply_text.get_untracked();
            let key = new_item_id().0[..12].to_owned();
            let outcome = workspace
                .discuss(id, |record, me| record.reply(&thread_id, &key, me, &text))
                .unwrap_or(Err(CommentError::NotYours));
            if outcome.is_ok() {
                reply_text.set(String::new());
                replying.set(false);
            }
            report(outcome);
        }
    };
    let reply_id = format!("reply-{thread_id}");
    let label_id = format!("thread-{thread_id}");
    let first_author = thread.comments[0].by.name.clone();
    let comments = thread
        .comments
        .into_iter()
        .map(|comment| view! { <CommentView id comment report /> })
        .collect_view();
    view! {
        <li class="thread" class:resolved=is_resolved aria-labelledby=label_id.clone()>
            <p class="thread-place" id=label_id.clone()>
                {(!place.is_empty()).then(|| view! { <span class="thread-where">{place}</span> " " })}
                <span class="visually-hidden">{first_author}</span>
            </p>
            {passage.map(|(words, note)| view! {
                <blockquote class="thread-passage" class:gone=note.is_some()>{words}</blockquote>
                {note.map(|note| view! { <p class="hint thread-note">{note}</p> })}
            })}
            <ol class="thread-comments">{comments}</ol>
            {resolved.map(|mark| view! {
                <p class="hint thread-resolved">
                    {format!("{} {} · ", t_string!(i18n, comment_resolved_by), mark.name)}
                    <time datetime=crate::dates::iso(mark.at)>{crate::dates::date_time(i18n, mark.at)}</time>
                </p>
            })}
            <p class="field-error" role="alert">{move || error.get()}</p>
            <p class="actions thread-actions">
                {show_in_text.map(|show| view! {
                    <button type="button" class="quiet" on:click=show>{move || t_string!(i18n, comment_show_in_text)}</button>
                })}
                <Show when=move || session.can_edit()>
                    <button type="button" class="quiet" on:click=move |_| replying.set(true)>{move || t_string!(i18n, comment_reply)}</button>
                    <button type="button" class="quiet" on:click=toggle.clone()>
                        {move || if is_resolved { t_string!(i18n, comment_reopen) } else { t_string!(i18n, comment_resolve) }}
                    </button>
                </Show>
            </p>
            <Show when=move || replying.get()>
                <form class="reply" aria-label=move || t_string!(i18n, comment_reply) on:submit={
                    let send_reply = send_reply.clone();
                    move |event| { event.prevent_default(); send_reply(); }
                }>
                    <label for=reply_id.clone()>{move || t_string!(i18n, comment_reply)}</label>
                    <textarea id=reply_id.clone() rows="2" autofocus
                        prop:value=move || reply_text.get()
                        on:input=move |event| reply_text.set(event_target_value(&event))
                        on:keydown=move |event| if event.key() == "Escape" { replying.set(false) }></textarea>
                    <p class="actions">
                        <button type="submit">{move || t_string!(i18n, comment_reply_post)}</button>
                        <button type="button" class="quiet" on:click=move |_| replying.set(false)>{move || t_string!(i18n, comment_cancel)}</button>
                    </p>
                </form>
            </Show>
        </li>
    }
}

#[component]
fn CommentView(
    id: RecordId,
    comment: Comment,
    report: impl Fn(Result<(), CommentError>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let mine = session.identity.with_untracked(|identity| {
        identity
            .as_ref()
            .is_some_and(|me| me.user.0 == comment.by.user)
    });
    let secretariat = session.is_secretariat();
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(comment.text.clone());
    let comment_id = comment.id.clone();
    let hidden = comment.hidden.is_some();
    let (deleted, words) = (comment.deleted, comment.text.clone());
    let text = move || {
        if deleted {
            view! { <p class="hint">{t_string!(i18n, comment_deleted)}</p> }.into_any()
        } else if hidden && !secretariat && !mine {
            view! { <p class="hint">{t_string!(i18n, comment_hidden)}</p> }.into_any()
        } else {
            let note =
                hidden.then(|| view! { <p class="hint">{t_string!(i18n, comment_hidden)}</p> });
            view! { {note} <p class="comment-text">{words.clone()}</p> }.into_any()
        }
    };
    let save = {
        let comment_id = comment_id.clone();
        move || {
            let text = draft.get_untracked();
            let outcome = workspace
                .discuss(id, |record, me| record.edit_comment(&comment_id, me, &text))
                .unwrap_or(Err(CommentError::NotYours));
            if outcome.is_ok() {
                editing.set(false);
            }
            report(outcome);
        }
    };
    let delete = {
        let comment_id = comment_id.clone();
        move |_| {
            if window()
                .confirm_with_message(t_string!(i18n, comment_delete_confirm))
                .unwrap_or(false)
            {
                report(
                    workspace
                        .discuss(id, |record, me| record.delete_comment(&comment_id, me))
                        .unwrap_or(Err(CommentError::NotYours)),
                );
            }
        }
    };
    let hide = {
        let comment_id = comment_id.clone();
        move |_| {
            report(
                workspace
                    .discuss(id, |record, me| {
                        Ok(record.set_hidden(&comment_id, me, !hidden))
                    })
                    .unwrap_or(Err(CommentError::NotYours)),
            )
        }
    };
    let edit_id = format!("edit-{comment_id}");
    view! {
        <li class="comment">
            <p class="comment-by">
                <strong>{comment.by.name.clone()}</strong> " · "
                <time datetime=crate::dates::iso(comment.by.at)>{crate::dates::date_time(i18n, comment.by.at)}</time>
                {comment.edited.filter(|_| !comment.deleted).map(|_| view! { " · " <span class="hint">{t_string!(i18n, comment_edited)}</span> })}
            </p>
            {move || if editing.get() {
                    let save = save.clone();
                    view! {
                        <form class="comment-edit" on:submit=move |event| { event.prevent_default(); save(); }>
                            <label for=edit_id.clone() class="visually-hidden">{t_string!(i18n, comment_edit)}</label>
                            <textarea id=edit_id.clone() rows="3" prop:value=move || draft.get()
                                on:input=move |event| draft.set(event_target_value(&event))></textarea>
                            <p class="actions">
                                <button type="submit">{t_string!(i18n, comment_save)}</button>
                                <button type="button" class="quiet" on:click=move |_| editing.set(false)>{t_string!(i18n, comment_cancel)}</button>
                            </p>
                        </form>
                    }.into_any()
                } else {
                    text()
                }}
            <p class="actions comment-actions">
                {(mine && !comment.deleted).then(|| view! {
                    <button type="button" class="quiet" on:click=move |_| editing.set(true)>{t_string!(i18n, comment_edit)}</button>
                    <button type="button" class="quiet" on:click=delete.clone()>{t_string!(i18n, comment_delete)}</button>
                })}
                {(secretariat && !comment.deleted).then(|| view! {
                    <button type="button" class="quiet" on:click=hide.clone()>
                        {if hidden { t_string!(i18n, comment_unhide) } else { t_string!(i18n, comment_hide) }}
                    </button>
                })}
            </p>
        </li>
    }
}
