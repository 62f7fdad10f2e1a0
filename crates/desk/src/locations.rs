//! Locations: where equipment stands and people sit, shown as "Building › Room".
