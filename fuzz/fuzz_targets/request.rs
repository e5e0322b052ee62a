#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kubezone_fuzz::respond(data));
