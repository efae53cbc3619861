//! A settings file, whatever its text: settings that validate, or an error
//! that says what to fix; settings that load save and load back the same.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ssetray::core::settings::Settings;

fuzz_target!(|text: &str| {
    let path = Path::new("settings.toml");
    match Settings::from_toml(text, path) {
        Ok(settings) => {
            let saved = toml::to_string(&settings).expect("settings encode");
            let again = Settings::from_toml(&saved, path);
            assert_eq!(again.ok().as_ref(), Some(&settings), "{saved}");
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
