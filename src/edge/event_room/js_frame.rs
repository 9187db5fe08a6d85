//! A broadcast's frame made a JS string once and handed as is to every socket. workers-rs's
//! `send_with_str` copies its Rust string into a new JS string on every call: once per socket
//! and frame of a broadcast (docs/performance.md, fan-out).

use wasm_bindgen::{prelude::wasm_bindgen, JsCast, JsValue};
use worker::WebSocket;

#[wasm_bindgen]
extern "C" {
    /// A WebSocket seen only through `send`, which takes any JS value (here, a string).
    type Sender;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &Sender, data: &JsValue) -> Result<(), JsValue>;
}

pub(super) struct JsFrame(JsValue);

impl JsFrame {
    pub fn new(text: &str) -> JsFrame {
        JsFrame(JsValue::from_str(text))
    }

    /// False when the socket refused the frame (it closed meanwhile).
    pub fn send_to(&self, ws: &WebSocket) -> bool {
        let socket: &worker::web_sys::WebSocket = ws.as_ref();
        socket.unchecked_ref::<Sender>().send(&self.0).is_ok()
    }
}
