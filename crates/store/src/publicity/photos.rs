//! An activity's photos, kept in the file store (`files/`) like claim papers: uploaded by
//! those who record activities, seen by whoever sees the activity, each view audited.

use guanai_domain::files::{FilePurpose, MAX_FILES_PER_UPLOAD};
use guanai_domain::Permission;

use super::ACTIVITY;
use crate::entities::activities;
use crate::files::{FileOwner, Image, StoredFile, Upload, Variant};
use crate::{Actor, StoreError, StoreResult};

const PHOTO: FilePurpose = FilePurpose::ActivityPhoto;

impl crate::handles::Publicity<'_> {
    /// Adds photos to an activity of the actor's scope: all of them or, when one is refused
    /// (not an image, cut off, too large), none.
    pub async fn add_photos(
        self,
        actor: &Actor,
        activity_id: i64,
        uploads: Vec<Upload>,
    ) -> StoreResult<Vec<StoredFile>> {
        self.require(actor, Permission::ManagePublicity).await?;
        let activity =
            self.scoped_find::<activities::Entity>(actor, ACTIVITY, activity_id, |a| &a.region_code).await?;
        if uploads.is_empty() {
            return Err(StoreError::invalid("请选择要上传的照片"));
        }
        if uploads.len() > MAX_FILES_PER_UPLOAD {
            return Err(StoreError::invalid(format!(
                "一次最多上传{MAX_FILES_PER_UPLOAD}张照片，请分批上传；本次选择的照片均未保存"
            )));
        }
        let prepared = self.files().prepare(PHOTO, uploads).await?;
        let owner =
            FileOwner { purpose: PHOTO, owner_id: activity.id, region: activity.region_code, tag: None };
        self.files().save(actor, &owner, prepared).await
    }

    /// The photos of an activity of the actor's scope, oldest first.
    pub async fn photos(self, actor: &Actor, activity_id: i64) -> StoreResult<Vec<StoredFile>> {
        self.require(actor, Permission::ViewAssociationWork).await?;
        self.scoped_find::<activities::Entity>(actor, ACTIVITY, activity_id, |a| &a.region_code).await?;
        self.files().list(PHOTO, activity_id).await
    }

    /// One photo (or its thumbnail), opened; the view is audited, and a photo outside the
    /// actor's scope is "not found" (the attempt audited).
    pub async fn photo(self, actor: &Actor, photo_id: i64, variant: Variant) -> StoreResult<Image> {
        self.files().read(actor, PHOTO, photo_id, variant).await
    }

    /// Removes a photo; audited. Returns the activity it belonged to.
    pub async fn delete_photo(self, actor: &Actor, photo_id: i64) -> StoreResult<i64> {
        self.require(actor, Permission::ManagePublicity).await?;
        let (_, activity_id) = self.files().delete(actor, PHOTO, photo_id).await?;
        Ok(activity_id)
    }
}
