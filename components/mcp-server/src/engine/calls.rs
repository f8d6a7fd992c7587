//! The methods that run something of the catalogue's: tools, resource reads,
//! prompts and completions — each after the caller's scope for it is checked.

use serde_json::Value;

use super::{Dispatch, MAX_COMPLETIONS, RESOURCE_NOT_FOUND, Refusal, check_arguments};
use crate::catalogue::{Catalogue, ToolContext};
use crate::jsonrpc::{RpcError, code};
use crate::model::Downlevel;
use crate::model::definitions::Definition;
use crate::model::params::{
    CallToolParams, CompleteParams, CompletionRef, GetPromptParams, Params, UriParams,
};
use crate::model::results::{CompleteResult, Completion, ReadResourceResult, to_json};
use crate::mrtr::Round;
use crate::revision::Revision;
use crate::uri_template::match_template;

/// A missing resource: `-32002` in the session era; 2026-07-28 standardized on
/// `-32602` (SEP-2164). The URI is in `data` either way.
fn not_found(uri: &str, revision: Revision) -> RpcError {
    let code = if revision.has_sessions() {
        RESOURCE_NOT_FOUND
    } else {
        code::INVALID_PARAMS
    };
    let mut data = serde_json::Map::new();
    data.insert("uri".into(), Value::String(uri.to_owned()));
    RpcError::new(code, "Resource not found").with_data(Value::Object(data))
}

impl<C: Catalogue> Dispatch<'_, C> {
    /// `Err` naming the scope when the caller lacks it.
    fn scope_check(&self, scope: Option<&str>) -> Result<(), Refusal> {
        match scope {
            Some(scope) if !self.caller.has_scope(scope) => {
                Err(Refusal::InsufficientScope(scope.to_owned()))
            }
            _ => Ok(()),
        }
    }

    /// The definition among `definitions` that a request names by `key`, once the
    /// caller's scope for it is checked.
    fn admitted<T: Definition>(&self, definitions: Vec<T>, key: &str) -> Result<T, Refusal> {
        let definition = definitions
            .into_iter()
            .find(|definition| definition.key() == key)
            .ok_or_else(|| RpcError::invalid_params(format!("unknown {} {key:?}", T::KIND)))?;
        self.scope_check(definition.scope())?;
        Ok(definition)
    }

    pub(super) async fn call_tool(&self, params: &Params) -> Result<Value, Refusal> {
        let call = CallToolParams::parse(params)?;
        let tool = self.admitted(self.catalogue.tools(), &call.name)?;
        check_arguments(&tool.input_schema, &call.arguments)?;
        let round = self.round("tools/call", &call.name, params)?;
        let context = self.context(call.progress_token.clone(), round.as_ref());
        let output = self.catalogue.call_tool(&call, &context).await?;
        if let Some(asked) = self.input_required(round)? {
            return Ok(asked);
        }
        Ok(to_json(&output.downlevel(self.revision)))
    }

    /// What a round that asked the client for input answers instead of a result
    /// (`None`: the request is complete).
    fn input_required(&self, round: Option<Round>) -> Result<Option<Value>, Refusal> {
        match round.filter(Round::needs_input) {
            // `round` made one only with the state key.
            Some(round) => Ok(Some(to_json(
                &round.input_required(&self.state_key.unwrap_or_default())?,
            ))),
            None => Ok(None),
        }
    }

    /// The round of a multi-round request (stateless revision only).
    fn round(
        &self,
        method: &str,
        target: &str,
        params: &Params,
    ) -> Result<Option<Round>, RpcError> {
        if self.revision.has_sessions() {
            return Ok(None);
        }
        let key = self.state_key.ok_or_else(RpcError::internal)?;
        Round::from_request(&key, method, target, params).map(Some)
    }

    fn context<'c>(
        &'c self,
        progress_token: Option<Value>,
        round: Option<&'c Round>,
    ) -> ToolContext<'c> {
        ToolContext {
            caller: self.caller,
            revision: self.revision,
            client_capabilities: self.client_capabilities,
            log_level: self.log_level,
            progress_token,
            notifications: &self.notifications,
            updated: &self.updated,
            client: match round {
                Some(round) => Some(round),
                None => self.client,
            },
        }
    }

    /// The `uri` parameter, when a resource or template the caller may see covers it.
    pub(super) fn admitted_uri(&self, params: &Params) -> Result<String, Refusal> {
        let UriParams { uri } = UriParams::parse(params)?;
        let scope = if let Some(resource) = self
            .catalogue
            .resources()
            .into_iter()
            .find(|r| r.uri == uri)
        {
            resource.scope
        } else if let Some(template) = self
            .catalogue
            .templates()
            .into_iter()
            .find(|t| match_template(&t.uri_template, &uri).is_some())
        {
            template.scope
        } else {
            return Err(not_found(&uri, self.revision).into());
        };
        self.scope_check(scope.as_deref())?;
        Ok(uri)
    }

    pub(super) async fn read_resource(&self, params: &Params) -> Result<Value, Refusal> {
        let uri = self.admitted_uri(params)?;
        match self.catalogue.read_resource(&uri, self.caller).await? {
            Some(contents) => Ok(to_json(&ReadResourceResult { contents })),
            None => Err(not_found(&uri, self.revision).into()),
        }
    }

    pub(super) async fn get_prompt(&self, params: &Params) -> Result<Value, Refusal> {
        let get = GetPromptParams::parse(params)?;
        let prompt = self.admitted(self.catalogue.prompts(), &get.name)?;
        for argument in &prompt.arguments {
            match get.arguments.get(&argument.name) {
                Some(Value::String(_)) => {}
                None if !argument.required => {}
                None => {
                    return Err(RpcError::invalid_params(format!(
                        "missing required argument {:?}",
                        argument.name
                    ))
                    .into());
                }
                Some(_) => {
                    return Err(RpcError::invalid_params(format!(
                        "argument {:?} must be a string",
                        argument.name
                    ))
                    .into());
                }
            }
        }
        let round = self.round("prompts/get", &get.name, params)?;
        let context = self.context(None, round.as_ref());
        let output = self.catalogue.get_prompt(&get, &context).await?;
        if let Some(asked) = self.input_required(round)? {
            return Ok(asked);
        }
        let output = output.ok_or_else(RpcError::internal)?;
        Ok(to_json(&output))
    }

    pub(super) async fn complete(&self, params: &Params) -> Result<Value, Refusal> {
        let request = CompleteParams::parse(params)?;
        match &request.reference {
            CompletionRef::Prompt(name) => {
                let prompt = self.admitted(self.catalogue.prompts(), name)?;
                if !prompt.arguments.iter().any(|a| a.name == request.argument) {
                    return Err(RpcError::invalid_params(format!(
                        "prompt {name:?} has no argument {:?}",
                        request.argument
                    ))
                    .into());
                }
            }
            CompletionRef::Template(uri) => {
                self.admitted(self.catalogue.templates(), uri)?;
            }
        }
        let mut values = self.catalogue.complete(&request, self.caller).await?;
        let total = values.len();
        values.truncate(MAX_COMPLETIONS);
        Ok(to_json(&CompleteResult {
            completion: Completion {
                values,
                total,
                has_more: total > MAX_COMPLETIONS,
            },
        }))
    }
}
