//! The socket as the WebSocket protocol (tungstenite) sees it: it reads from the
//! socket, and writes into the connection's [`Outlet`], so that its pongs, replies and
//! close frames keep their place among the events the fan-out writes there.

use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::outlet::Outlet;

pub(crate) type Source = Pin<Box<dyn AsyncRead + Send>>;

pub(crate) struct Wire {
    source: Source,
    outlet: Arc<Outlet>,
}

impl Wire {
    pub fn new(source: Source, outlet: Arc<Outlet>) -> Self {
        Self { source, outlet }
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.source.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Wire {
    /// Takes every byte at once: tungstenite hands over whole frames, and the outlet
    /// must never hold half of one when the fan-out writes the next event.
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(
            self.outlet
                .push(Bytes::copy_from_slice(buf))
                .map(|()| buf.len()),
        )
    }

    /// Done once the outlet has the bytes: the connection's task writes out whatever
    /// the socket did not take, so a send never waits for a client that does not read.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.outlet.poll_shutdown(cx)
    }
}
