//! `*/list`: the definitions the caller's scopes admit, a page at a time, as the
//! revision knows them.

use serde_json::Value;

use super::{Dispatch, Refusal};
use crate::catalogue::Catalogue;
use crate::jsonrpc::RpcError;
use crate::model::Downlevel;
use crate::model::params::{ListParams, Params};
use crate::model::results::{
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, to_json,
};

/// A page of `items` after `cursor` (opaque to clients: `offset:<n>`), and the cursor
/// of the next page.
fn page<T>(
    items: Vec<T>,
    cursor: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), RpcError> {
    let start = match cursor {
        None => 0,
        Some(cursor) => cursor
            .strip_prefix("offset:")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| RpcError::invalid_params("invalid cursor"))?,
    };
    let size = size.max(1);
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| format!("offset:{end}"));
    Ok((
        items.into_iter().skip(start).take(end - start).collect(),
        next,
    ))
}

impl<C: Catalogue> Dispatch<'_, C> {
    /// The page of `items` (those the caller's scopes admit) that `params` asks for,
    /// as the revision knows them.
    fn visible_page<T: Downlevel>(
        &self,
        items: Vec<T>,
        scope: impl Fn(&T) -> Option<&str>,
        params: &Params,
    ) -> Result<(Vec<T>, Option<String>), Refusal> {
        let ListParams { cursor } = ListParams::parse(params)?;
        let visible: Vec<T> = items
            .into_iter()
            .filter(|item| self.caller.admits(scope(item)))
            .collect();
        let (page, next) = page(visible, cursor.as_deref(), self.page_size)?;
        let page = page
            .into_iter()
            .map(|item| item.downlevel(self.revision))
            .collect();
        Ok((page, next))
    }

    pub(super) fn list_tools(&self, params: &Params) -> Result<Value, Refusal> {
        let (tools, next_cursor) =
            self.visible_page(self.catalogue.tools(), |t| t.scope.as_deref(), params)?;
        Ok(to_json(&ListToolsResult { tools, next_cursor }))
    }

    pub(super) fn list_resources(&self, params: &Params) -> Result<Value, Refusal> {
        let (resources, next_cursor) =
            self.visible_page(self.catalogue.resources(), |r| r.scope.as_deref(), params)?;
        Ok(to_json(&ListResourcesResult {
            resources,
            next_cursor,
        }))
    }

    pub(super) fn list_templates(&self, params: &Params) -> Result<Value, Refusal> {
        let (resource_templates, next_cursor) =
            self.visible_page(self.catalogue.templates(), |t| t.scope.as_deref(), params)?;
        Ok(to_json(&ListResourceTemplatesResult {
            resource_templates,
            next_cursor,
        }))
    }

    pub(super) fn list_prompts(&self, params: &Params) -> Result<Value, Refusal> {
        let (prompts, next_cursor) =
            self.visible_page(self.catalogue.prompts(), |p| p.scope.as_deref(), params)?;
        Ok(to_json(&ListPromptsResult {
            prompts,
            next_cursor,
        }))
    }
}
