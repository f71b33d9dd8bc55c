#!/usr/bin/env bash
# `oi-gen verify` on the rendered repository: its parts refer to each other
# (secrets read are created, roles assumed trust their jobs, repositories
# pushed to exist, Pod Identity matches the service accounts, hosts have DNS
# and an issuer, NetworkPolicies allow DNS and the database, templates read
# only values that are set). Exit 0 means zero findings.
#
# conformance: opt-in
# Runs only with `--only verify` until the output has no findings: today
# secrets are read that Terraform never creates and no host has a DNS source.
set -euo pipefail

"$OI_GEN" verify "$1"
