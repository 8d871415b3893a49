"""Aidant mandates: FALC documents signed by the resident and the aidant, sealed by the hub (PAdES),
verifiable by anyone through a QR code, revocable at once. A domain module the hub composes
(`hub.mandates.module.MODULE`); it lives inside `hub/` by the architecture's layout but names no other domain."""
