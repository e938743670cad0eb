//! User Markdown as HTML over HTTP: the HTML export keeps formatting and drops
//! anything that runs or loads, and needs a session and read access to the
//! record. (The app renders in the browser, with the same `tern_domain::markup`.)

use tern_domain::api::EXPORT_PATH;
use tern_domain::auth::Role;
use tern_domain::record::{FieldEdit, FieldPath, ItemId, Record, RecordId, RecordKind};
use tern_domain::sync::{self, OpId, PushOp, PushRequest, PUSH_PATH};
use tern_tests::spawn_app;

const PAYLOAD: &str = "<img src=x onerror=\"alert(1)\"><script>alert(2)</script>\n\n**Support** and [link](javascript:alert(3)) and [CBSS](https://cbss.org)";

/// What in the HTML's tags would run or load. (Raw HTML in the text shows as
/// the text typed, escaped: harmless words, not tags.)
fn dangerous(html: &str) -> Vec<&'static str> {
    let tags: Vec<&str> = html
        .split('<')
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(tag, _)| tag))
        .collect();
    ["script", "onerror", "img", "javascript:"]
        .into_iter()
        .filter(|needle| tags.iter().any(|tag| tag.contains(needle)))
        .collect()
}

#[tokio::test]
async fn the_export_is_clean_html_for_readers_and_404_for_others() {
    let app = spawn_app().await;
    let id = RecordId::v7(1_760_000_000_000, [7; 10]);
    let (record, created) = Record::create(id, RecordKind::Recommendation, 11);
    let titled = record
        .set_text("title", "<b>Title</b> & more")
        .expect("title");
    let section = ItemId("s1".into());
    let inserted = record
        .change(
            &FieldPath::top("sections"),
            FieldEdit::InsertItem {
                id: section.clone(),
                position: 0,
            },
        )
        .expect("inserted");
    let heading = record
        .change(
            &FieldPath::item("sections", section.clone(), "heading"),
            FieldEdit::Text("Heading".into()),
        )
        .expect("heading");
    let body = record
        .change(
            &FieldPath::item("sections", section, "body"),
            FieldEdit::Text(PAYLOAD.into()),
        )
        .expect("section");
    let ops = [created, titled, inserted, heading, body]
        .into_iter()
        .enumerate()
        .map(|(n, update)| PushOp {
            op: OpId([n as u8 + 1; 16]),
            record: id,
            kind: RecordKind::Recommendation,
            update: update.0,
        })
        .collect();
    let pushed = app
        .client
        .post(app.url(PUSH_PATH))
        .header("content-type", sync::CONTENT_TYPE)
        .body(sync::encode(&PushRequest { ops }))
        .send()
        .await
        .expect("sent");
    assert_eq!(pushed.status(), 200);

    let path = format!("{EXPORT_PATH}/{id}");
    let export = app.client.get(app.url(&path)).send().await.expect("sent");
    assert_eq!(export.status(), 200);
    let content_type = export.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = export.text().await.expect("text");
    assert!(
        html.contains("<h1>&lt;b&gt;Title&lt;/b&gt; &amp; more</h1>"),
        "{html}"
    );
    assert!(html.contains("<strong>Support</strong>"), "{html}");
    assert_eq!(dangerous(&html), Vec::<&str>::new(), "{html}");

    // A contributor who was not invited gets what a wrong id gets.
    let outsider = app.create_user(Role::Contributor, None).await;
    let hidden = outsider
        .client
        .get(app.url(&path))
        .send()
        .await
        .expect("sent");
    assert_eq!(hidden.status(), 404);
    let signed_out = app
        .anonymous_client()
        .get(app.url(&path))
        .send()
        .await
        .expect("sent");
    assert_eq!(signed_out.status(), 401);
}
