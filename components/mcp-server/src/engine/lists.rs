//! `*/list`: the definitions the caller's scopes admit, a page at a time, as the
//! revision knows them.

use super::{Answer, Dispatch, Refusal};
use crate::catalogue::Catalogue;
use crate::jsonrpc::RpcError;
use crate::model::definitions::Definition;
use crate::model::params::{ListParams, Params};
use crate::model::results::{ListResult, to_json};

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
    /// `*/list` of the definitions of one kind (`list` fetches them from the
    /// catalogue): the page `params` asks for of those the caller's scopes admit, as
    /// the revision knows them.
    pub(super) fn list<T: Definition>(
        &self,
        list: fn(&C) -> Vec<T>,
        params: &Params,
    ) -> Result<Answer, Refusal> {
        let ListParams { cursor } = ListParams::parse(params)?;
        let visible: Vec<T> = list(self.catalogue)
            .into_iter()
            .filter(|definition| self.caller.admits(definition.scope()))
            .collect();
        let (page, next_cursor) = page(visible, cursor.as_deref(), self.page_size)?;
        let items = page
            .into_iter()
            .map(|definition| definition.downlevel(self.revision))
            .collect();
        Ok(Answer::plain(to_json(&ListResult { items, next_cursor })))
    }
}
