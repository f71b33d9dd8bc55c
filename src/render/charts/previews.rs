//! `cluster/manifests/previews.yaml` (`spec.delivery.previews`): what the
//! preview role's Kubernetes group may do, and the admission rules that keep
//! it and the preview images inside the namespaces `pr-<digits>`.

use serde_json::{Value, json};

use crate::blueprint::Resolved;
use crate::blueprint::previews::ResolvedPreviews;

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
        "validations": [{
          "expression": format!(
            "request.resource.resource == 'namespaces' ? request.name.matches('{NAMESPACE_PATTERN}') : request.namespace.matches('{NAMESPACE_PATTERN}')"
          ),
          "message": "the preview role changes only the namespaces pr-<digits> and what is in them",
        }, {
          "expression": "request.resource.resource != 'namespaces' || request.operation == 'DELETE' || (has(object.metadata.labels) && ['pod-security.kubernetes.io/enforce', 'policy.sigstore.dev/include'].all(k, k in object.metadata.labels) && object.metadata.labels['pod-security.kubernetes.io/enforce'] == 'restricted' && object.metadata.labels['policy.sigstore.dev/include'] == 'true')",
          "message": "a preview namespace keeps restricted pod security and signed images only",
        }],
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
        "validations": [{
          "expression": format!(
            "request.namespace.matches('{NAMESPACE_PATTERN}') || (object.spec.containers.all(c, !c.image.contains('{images}')) && (!has(object.spec.initContainers) || object.spec.initContainers.all(c, !c.image.contains('{images}'))))"
          ),
          "message": format!("images of {} run only in the namespaces pr-<digits>", previews.repository_prefix),
        }],
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
