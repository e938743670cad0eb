//! Small pieces every page uses: the page heading (and document title) and
//! the message under a form.

use leptos::prelude::*;

/// Keeps `document.title` as "<page> · Tern", following the language.
pub fn document_title(title: impl Fn() -> String + 'static) {
    Effect::new(move |_| document().set_title(&format!("{} · Tern", title())));
}

/// The page's one `<h1>`, also its document title.
#[component]
pub fn PageHeading<T: Into<String> + 'static>(
    title: impl Fn() -> T + Copy + Send + Sync + 'static,
) -> impl IntoView {
    document_title(move || title().into());
    view! { <h1>{move || title().into()}</h1> }
}

/// An error or confirmation under a form, announced to screen readers.
#[component]
pub fn FormMessage(id: &'static str, message: RwSignal<Option<(bool, String)>>) -> impl IntoView {
    view! {
        {move || message.get().map(|(ok, text)| {
            let class = if ok { "form-message ok" } else { "form-message error" };
            view! { <p id=id class=class role=if ok { "status" } else { "alert" }>{text}</p> }
        })}
    }
}
