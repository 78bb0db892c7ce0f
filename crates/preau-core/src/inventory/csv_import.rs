//! Devices from files: a device CSV (the collectivité's spreadsheet) and MDM exports.
