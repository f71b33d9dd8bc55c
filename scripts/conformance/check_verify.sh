#!/usr/bin/env bash
# `oi-gen verify` on the rendered repository: its parts refer to each other
# (secrets read are created, roles assumed trust their jobs, repositories
# pushed to exist, Pod Identity matches the service accounts, hosts have DNS
# and an issuer, NetworkPolicies allow DNS and the database, templates read
# only values that are set). Exit 0 means zero findings.
set -euo pipefail

"$OI_GEN" verify "$1"
