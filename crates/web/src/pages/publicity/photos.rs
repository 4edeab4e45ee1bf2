//! An activity's photos on its page: upload one or more (multipart, refused all together
//! with the store's Chinese message when one is not a usable image), open one (or its
//! thumbnail), remove one.

use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use guanai_domain::Permission;

use super::detail_page;
use crate::error::WebError;
use crate::files::image_response;
use crate::pages::form::form_error;
use crate::pages::require;
use crate::requests::ids::{Activity as ActivityId, PathId, Photo};
use crate::requests::uploads::{read_images, ImageQuery, IMAGE_BODY_LIMIT};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/publicity/{id}/photos", post(upload).layer(DefaultBodyLimit::max(IMAGE_BODY_LIMIT)))
        .route("/publicity/photos/{id}", get(image))
        .route("/publicity/photos/{id}/delete", post(delete))
}

async fn upload(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<ActivityId>,
    headers: axum::http::HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManagePublicity, "/publicity").await?;
    let uploads = match read_images(&state.store, &mut multipart).await {
        Ok(uploads) => uploads,
        Err(message) => return detail_page(&state, &user.session, id.id, Some(message), &headers).await,
    };
    match state.store.publicity().add_photos(&user.session.actor, id.id, uploads).await {
        Ok(_) => Ok(Redirect::to(&format!("/publicity/{}#photos", id.id)).into_response()),
        Err(err) => detail_page(&state, &user.session, id.id, Some(form_error(err)?), &headers).await,
    }
}

/// A photo (`?size=thumb`: its thumbnail), as a JPEG.
async fn image(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<Photo>,
    Query(query): Query<ImageQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewAssociationWork, "/publicity").await?;
    let variant = query.parse().map_err(WebError::BadRequest)?;
    Ok(image_response(state.store.publicity().photo(&user.session.actor, id.id, variant).await?))
}

async fn delete(
    State(state): State<AppState>,
    user: PageUser,
    id: PathId<Photo>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManagePublicity, "/publicity").await?;
    let activity = state.store.publicity().delete_photo(&user.session.actor, id.id).await?;
    Ok(Redirect::to(&format!("/publicity/{activity}#photos")).into_response())
}
