//! A line on the local socket, whatever its bytes: a request or an error in
//! words; a request that decodes encodes back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssetray::ipc::decode_request;

fuzz_target!(|line: &[u8]| {
    if let Ok(request) = decode_request(line) {
        let encoded = serde_json::to_vec(&request).expect("a request encodes");
        assert_eq!(decode_request(&encoded), Ok(request));
    }
});
