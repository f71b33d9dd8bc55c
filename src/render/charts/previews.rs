//! `cluster/manifests/previews.yaml` (`spec.delivery.previews`): what the
//! preview role's Kubernetes group may do, and the admission rules that keep
//! it and the preview images inside the namespaces `pr-<digits>`.

use serde_json::{Value, json};

use crate::blueprint::Resolved;
use crate::blueprint::previews::ResolvedPreviews;

/// The labels a preview namespace must keep.
const ENFORCE: &str = "pod-security.kubernetes.io/enforce";
const INCLUDE: &str = super::manifests::POLICY_INCLUDE_LABEL;

/// The names a preview namespace may have.
pub(crate) const NAMESPACE_PATTERN: &str = "^pr-[0-9]+$";

/// The documents of the file, each a Kubernetes object.
pub(super) fn manifests(
  resolved: &Resolved,
  previews: &ResolvedPreviews,
  custom_resources: &[(&'static str, &'static str)],
) -> Vec<Value> {
  let group = &previews.group;
  let mut rules = vec![json!({
    "apiGroups": [""],
    "resources": ["namespaces"],
    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
  })];
  for (api_group, resource) in custom_resources {
    rules.push(json!({
      "apiGroups": [api_group],
      "resources": [resource],
      "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
    }));
  }
  let mut guarded = vec![json!({
    "apiGroups": [""],
    "apiVersions": ["v1"],
    "operations": ["CREATE", "UPDATE", "DELETE"],
    "resources": ["namespaces"],
  })];
  for (api_group, resource) in custom_resources {
    guarded.push(json!({
      "apiGroups": [api_group],
      "apiVersions": ["*"],
      "operations": ["CREATE", "UPDATE", "DELETE"],
      "resources": [resource],
    }));
  }
  let images = format!("/{}/", previews.repository_prefix);
  let registry = resolved
    .first_environment()
    .registry
    .clone()
    .unwrap_or_else(|| crate::names::ecr_registry("*", &resolved.region));
  let identity = format!(
    "^https://github\\.com/{}/\\.github/workflows/preview\\.yml@refs/pull/[0-9]+/merge$",
    resolved.repository.replace('.', "\\.")
  );
  vec![
    json!({
      "apiVersion": "rbac.authorization.k8s.io/v1",
      "kind": "ClusterRole",
      "metadata": {"name": group},
      "rules": rules,
    }),
    json!({
      "apiVersion": "rbac.authorization.k8s.io/v1",
      "kind": "ClusterRoleBinding",
      "metadata": {"name": group},
      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": group},
      "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    }),
    json!({
      "apiVersion": "admissionregistration.k8s.io/v1",
      "kind": "ValidatingAdmissionPolicy",
      "metadata": {"name": group},
      "spec": {
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": guarded},
        "matchConditions": [{
          "name": "the-preview-role",
          "expression": format!("'{group}' in request.userInfo.groups"),
        }],
        "variables": [
          {"name": "namespace", "expression": "request.resource.resource == 'namespaces'"},
          {"name": "pattern", "expression": format!("'{NAMESPACE_PATTERN}'")},
          {
            "name": "labels",
            "expression": "object != null && has(object.metadata.labels) ? object.metadata.labels : {}",
          },
          {
            "name": "restricted",
            "expression": format!("'{ENFORCE}' in variables.labels && variables.labels['{ENFORCE}'] == 'restricted'"),
          },
          {
            "name": "signed",
            "expression": format!("'{INCLUDE}' in variables.labels && variables.labels['{INCLUDE}'] == 'true'"),
          },
        ],
        "validations": [
          {
            "expression": "!variables.namespace || request.name.matches(variables.pattern)",
            "message": "the preview role creates and deletes only the namespaces pr-<digits>",
          },
          {
            "expression": "variables.namespace || request.namespace.matches(variables.pattern)",
            "message": "the preview role changes only what is in the namespaces pr-<digits>",
          },
          {
            "expression": "!variables.namespace || request.operation == 'DELETE' || (variables.restricted && variables.signed)",
            "message": "a preview namespace keeps restricted pod security and signed images only",
          },
        ],
      },
    }),
    json!({
      "apiVersion": "admissionregistration.k8s.io/v1",
      "kind": "ValidatingAdmissionPolicyBinding",
      "metadata": {"name": group},
      "spec": {"policyName": group, "validationActions": ["Deny"]},
    }),
    json!({
      "apiVersion": "admissionregistration.k8s.io/v1",
      "kind": "ValidatingAdmissionPolicy",
      "metadata": {"name": format!("{}-preview-images", resolved.name)},
      "spec": {
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": [{
          "apiGroups": [""],
          "apiVersions": ["v1"],
          "operations": ["CREATE", "UPDATE"],
          "resources": ["pods"],
        }]},
        "variables": [
          {"name": "preview", "expression": format!("request.namespace.matches('{NAMESPACE_PATTERN}')")},
          {"name": "images", "expression": format!("'{images}'")},
        ],
        "validations": [
          {
            "expression": "variables.preview || object.spec.containers.all(c, !c.image.contains(variables.images))",
            "message": format!("images of {} run only in the namespaces pr-<digits>", previews.repository_prefix),
          },
          {
            "expression": "variables.preview || !has(object.spec.initContainers) || object.spec.initContainers.all(c, !c.image.contains(variables.images))",
            "message": format!("images of {} run only in the namespaces pr-<digits>", previews.repository_prefix),
          },
        ],
      },
    }),
    json!({
      "apiVersion": "admissionregistration.k8s.io/v1",
      "kind": "ValidatingAdmissionPolicyBinding",
      "metadata": {"name": format!("{}-preview-images", resolved.name)},
      "spec": {"policyName": format!("{}-preview-images", resolved.name), "validationActions": ["Deny"]},
    }),
    json!({
      "apiVersion": "policy.sigstore.dev/v1beta1",
      "kind": "ClusterImagePolicy",
      "metadata": {"name": format!("{}-previews", resolved.name)},
      "spec": {
        "authorities": [{
          "ctlog": {"url": "https://rekor.sigstore.dev"},
          "keyless": {
            "identities": [{
              "issuer": crate::names::GITHUB_ACTIONS_ISSUER,
              "subjectRegExp": identity,
            }],
            "url": "https://fulcio.sigstore.dev",
          },
          "name": "preview-workflow",
        }],
        "images": [{"glob": format!("{registry}/{}/**", previews.repository_prefix)}],
        "mode": "enforce",
      },
    }),
  ]
}
