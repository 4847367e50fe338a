//! Access management › Users › Invite users › From a spreadsheet: the sheet chosen or pasted,
//! every row checked (a dry run), then sent; and each row's outcome, before and after.

use super::invite::{AreaRoleFields, InviteTabs};
use crate::api::invites::types::{SheetPage, SheetRowView, SheetSummary};
use crate::api::invites::{invite_form, sheet_import, CheckSheet, SendSheet};
use crate::components::{action_error, field_error, FieldError, FormError, Loaded, PageLinks};
use crate::domain::import::RowClass;
use crate::domain::query::href;
use crate::domain::{grouped, time};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn ImportPage() -> impl IntoView {
    let form = Resource::new(|| (), |_| invite_form());
    view! {
        <Title text="Invite from a spreadsheet · Onboard"/>
        <div class="page">
            <p><a href="/users">"← Users"</a></p>
            <h1>"✈ Invite users"</h1>
            <InviteTabs sheet=true/>
            <Loaded resource=form let:data>
                <SheetForm data/>
            </Loaded>
        </div>
    }
}

/// A chosen file, read in the browser: its name and text.
#[derive(Clone, Default)]
struct ChosenFile {
    name: String,
    text: String,
}

#[component]
fn SheetForm(data: crate::api::invites::types::InviteFormData) -> impl IntoView {
    let check = ServerAction::<CheckSheet>::new();
    let chosen = RwSignal::new(ChosenFile::default());
    let (reading, set_reading) = signal(false);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = check.value().get() {
            navigate(&format!("/users/import/{id}"), Default::default());
        }
    });
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input: leptos::web_sys::HtmlInputElement = event_target(&ev);
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                chosen.set(ChosenFile::default());
                return;
            };
            set_reading.set(true);
            let name = file.name();
            leptos::task::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text()).await.ok().and_then(|t| t.as_string());
                set_reading.set(false);
                chosen.set(ChosenFile { name, text: text.unwrap_or_default() });
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, set_reading);
    };
    let file_status = move || {
        if reading.get() {
            return "Reading the file…".to_string();
        }
        let ChosenFile { name, text } = chosen.get();
        match text.lines().count() {
            _ if name.is_empty() => String::new(),
            0 => format!("{name} is empty."),
            1 => format!("{name}: 1 line read."),
            n => format!("{name}: {} lines read.", grouped(n as i64)),
        }
    };
    let sheet_error = field_error(check, "sheet");
    view! {
        <section class="card">
            <FormError error=action_error(check)/>
            <ActionForm action=check>
                <div class="field">
                    <label for="sheet-file">"Spreadsheet file (CSV)"</label>
                    <input id="sheet-file" type="file" accept=".csv,.tsv,.txt,text/csv,text/tab-separated-values,text/plain"
                        aria-describedby="sheet-file-hint sheet-file-status" on:change=on_file/>
                    <p class="hint" id="sheet-file-hint">
                        "Save the sheet as CSV from Excel, Numbers, LibreOffice or Google Sheets. Commas, semicolons or tabs between cells are all fine."
                    </p>
                    <p class="hint" id="sheet-file-status" role="status">{file_status}</p>
                </div>
                <input type="hidden" name="uploaded" prop:value=move || chosen.with(|c| c.text.clone())/>
                <input type="hidden" name="file_name" prop:value=move || chosen.with(|c| c.name.clone())/>
                <div class="field">
                    <label for="sheet-paste">"Or paste cells copied from a spreadsheet"</label>
                    <textarea id="sheet-paste" name="pasted" rows="8" spellcheck="false"
                        aria-describedby="sheet-columns sheet-error"></textarea>
                    <p class="hint" id="sheet-columns">
                        "The first row names the columns, in any order: " <code>"email"</code>
                        " (required); " <code>"first name"</code> ", " <code>"last name"</code> " and "
                        <code>"mobile"</code> " to fill in their registration form for them; "
                        <code>"service area"</code> ", " <code>"role"</code> " and " <code>"teams"</code>
                        " (several separated by " <code>"|"</code> "). A chosen file is used before pasted cells."
                    </p>
                    <FieldError id="sheet-error" message=sheet_error/>
                </div>
                <AreaRoleFields data area_error=field_error(check, "area") role_error=field_error(check, "role")
                    hint="For rows whose ‘service area’ or ‘role’ cell is empty, or that have no such column."/>
                <button type="submit" class="button-primary" disabled=move || check.pending().get() || reading.get()>
                    {move || if check.pending().get() { "Checking…" } else { "Check the sheet" }}
                </button>
                <div role="status" class="hint">
                    {move || check.pending().get().then(|| view! {
                        <progress aria-label="Checking the sheet"></progress>
                        <p>"Reading and checking every row. Nothing is sent until you confirm on the next page."</p>
                    })}
                </div>
            </ActionForm>
        </section>
    }
}

/// The sheet's place in its rows: which class, which page.
fn sheet_query(query: &leptos_router::params::ParamsMap) -> (String, i64) {
    let class = query.get("class").filter(|c| RowClass::parse(c).is_some()).unwrap_or_default();
    let page = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    (class, page)
}

#[component]
pub fn SheetCheckPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("sheet").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let send = ServerAction::<SendSheet>::new();
    let sheet =
        Resource::new(move || (id(), query.with(sheet_query)), |(id, (class, page))| sheet_import(id, class, page));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(batch)) = send.value().get() {
            navigate(&format!("/users/invite/{batch}"), Default::default());
        }
    });
    view! {
        <Title text="Check the sheet · Onboard"/>
        <div class="page">
            <p><a href="/users/import">"← Choose another sheet"</a></p>
            <Loaded resource=sheet let:page>
                <SheetCheck page send/>
            </Loaded>
        </div>
    }
}

#[component]
fn SheetCheck(page: SheetPage, send: ServerAction<SendSheet>) -> impl IntoView {
    let sheet = page.sheet.clone();
    let new = sheet.count(RowClass::New);
    let rows = sheet.rows();
    let base = format!("/users/import/{}", sheet.id);
    view! {
        <h1>{format!("Check before inviting: {}", sheet.file_name)}</h1>
        <section class="card" aria-labelledby="sheet-summary-heading">
            <h2 id="sheet-summary-heading">{format!("{} rows read", grouped(rows))}</h2>
            <p>{format!(
                "Nothing has been sent. Rows with an empty ‘service area’ or ‘role’ cell get {} and {}.",
                sheet.default_area, sheet.default_role
            )}</p>
            <IgnoredColumns sheet=sheet.clone()/>
            {match sheet.batch {
                Some(batch) => view! {
                    <p class="notice" role="status">
                        "This sheet was sent. " <a href=format!("/users/invite/{batch}")>"See what became of each row"</a>
                    </p>
                }.into_any(),
                None => view! { <SendForm sheet=sheet.clone() send new/> }.into_any(),
            }}
        </section>
        <SheetRows page base/>
    }
}

#[component]
fn IgnoredColumns(sheet: SheetSummary) -> impl IntoView {
    (!sheet.ignored_columns.is_empty()).then(|| {
        let names = sheet.ignored_columns.iter().map(|c| format!("‘{c}’")).collect::<Vec<_>>().join(", ");
        view! { <p class="hint">{format!("Not read, as Onboard has no use for them: {names}.")}</p> }
    })
}

#[component]
fn SendForm(sheet: SheetSummary, send: ServerAction<SendSheet>, new: i64) -> impl IntoView {
    let kept = sheet.expires_at.map(|at| format!("This check is kept until {}.", time::format_utc(at)));
    let label = match new {
        0 => "No one to invite".to_string(),
        1 => "✈ Invite 1 person".to_string(),
        n => format!("✈ Invite {} people", grouped(n)),
    };
    view! {
        <FormError error=action_error(send) all=true/>
        <ActionForm action=send>
            <input type="hidden" name="id" value=sheet.id.to_string()/>
            <p class="hint">
                {format!("Only the {} New rows are invited; the others are listed below with why. ", grouped(new))}
                {kept}
            </p>
            <button type="submit" class="button-primary" disabled=move || new == 0 || send.pending().get()>
                {move || if send.pending().get() { "Inviting…".to_string() } else { label.clone() }}
            </button>
            <div role="status" class="hint">
                {move || send.pending().get().then(|| view! {
                    <progress aria-label="Inviting"></progress>
                    <p>{format!("Inviting {} people; the sending progress comes next.", grouped(new))}</p>
                })}
            </div>
        </ActionForm>
    }
}

/// The rows of a checked or sent sheet, by class, a page at a time; `base` is the page's own
/// address, which the class links and page links keep.
#[component]
pub fn SheetRows(page: SheetPage, #[prop(into)] base: String) -> impl IntoView {
    let SheetPage { sheet, class, page, total, rows } = page;
    let sent = sheet.batch.is_some();
    let key = class.map(|c| c.as_str().to_string()).unwrap_or_default();
    let link = {
        let base = base.clone();
        move |class: &str, page: i64| {
            let page = if page > 1 { page.to_string() } else { String::new() };
            href(&base, &[("class", class.to_string()), ("page", page)])
        }
    };
    let filters = std::iter::once((None, "All rows".to_string(), sheet.rows()))
        .chain(sheet.counts.iter().map(|(c, n)| (Some(*c), c.label().to_string(), *n)))
        .map(|(c, label, n)| {
            let current = c == class;
            let to = link(c.map_or("", RowClass::as_str), 1);
            view! {
                <li>
                    <a href=to aria-current=current.then_some("page") class=format!("class-filter class-{}", c.map_or("all", RowClass::as_str))>
                        {format!("{label}: {}", grouped(n))}
                    </a>
                </li>
            }
        })
        .collect_view();
    let caption = match class {
        Some(c) => format!("Rows: {}", c.label()),
        None => "Rows".to_string(),
    };
    let pages = {
        let key = key.clone();
        move |p: i64| link(&key, p)
    };
    view! {
        <section class="card" aria-labelledby="sheet-rows-heading">
            <h2 id="sheet-rows-heading">{if sent { "What became of each row" } else { "Each row" }}</h2>
            <nav aria-label="Rows by class"><ul class="class-counts">{filters}</ul></nav>
            {sent.then(|| view! {
                <p>
                    <a href=href("/api/export_sheet_results", &[("id", sheet.id.to_string())])
                        download=format!("import-results-{}.csv", sheet.id)>"Download results (CSV)"</a>
                </p>
            })}
            <div class="table-scroll" tabindex="0" role="region" aria-label="Rows of the sheet">
                <table class="sheet-rows">
                    <caption>{caption}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Row"</th>
                            <th scope="col">"Email"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Mobile"</th>
                            <th scope="col">"Service area"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Teams"</th>
                            <th scope="col">"Outcome"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|row| view! { <SheetRow row/> }).collect_view()}
                    </tbody>
                </table>
            </div>
            {(total == 0).then(|| view! { <p>"No rows of this kind."</p> })}
            <PageLinks label="Pages of rows" page total href=pages/>
        </section>
    }
}

#[component]
fn SheetRow(row: SheetRowView) -> impl IntoView {
    let SheetRowView { number, email, name, mobile, area, role, teams, class, reason, result } = row;
    let outcome = match (result, reason) {
        (Some(result), _) => result.label(),
        (None, Some(reason)) => format!("{}: {reason}", class.label()),
        (None, None) => class.label().to_string(),
    };
    let good = class == RowClass::New;
    // A row that cannot be invited shows the choices it would have had only where they came from it.
    view! {
        <tr class=if good { "row-new" } else { "row-problem" }>
            <th scope="row">{number}</th>
            <td>{email}</td>
            <td>{name}</td>
            <td>{mobile}</td>
            <td>{if good { area } else { String::new() }}</td>
            <td>{if good { role } else { String::new() }}</td>
            <td>{teams.join(", ")}</td>
            <td class=format!("class-{}", class.as_str())>{outcome}</td>
        </tr>
    }
}

/// A sent sheet's rows on its batch's page, fetched again with the batch while emails go out;
/// the previous answer stays on screen meanwhile.
#[component]
pub fn SheetResults(
    #[prop(into)] batch: Signal<i64>,
    #[prop(into)] sheet: Signal<Option<i64>>,
    #[prop(into)] tick: Signal<u32>,
) -> impl IntoView {
    let query = use_query_map();
    let rows = Resource::new(
        move || (sheet.get(), query.with(sheet_query), tick.get()),
        |(sheet, (class, page), _)| async move {
            match sheet {
                Some(id) => sheet_import(id, class, page).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(Some(page)) => view! { <SheetRows page base=format!("/users/invite/{}", batch.get_untracked())/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <crate::components::ErrorNotice error/> }.into_any(),
                }
            })}
        </Transition>
    }
}
