package transport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
)

// stdioMaxRequestBytes is the default limit of one stdio message, the same
// as an HTTP request body's.
const stdioMaxRequestBytes = 8 << 20

// lineLimiter passes the client's lines through to mcp-go's reader, except
// a line longer than limit: that one it discards as it streams in (memory
// stays bounded by the limit, not the line) and answers on out itself with
// a JSON-RPC error, so the client is not left waiting.
//
// mcp-go reads lines with an unbounded bufio.Reader.ReadString; it only
// ever gets a whole line that fits the limit.
type lineLimiter struct {
	src   *bufio.Reader
	limit int
	out   io.Writer // shared with mcp-go's responses, behind one lock
	onEOF func()    // called once, before mcp-go sees the end of input; may block

	pending [][]byte // the line being handed out
	err     error    // what comes after pending
}

func newLineLimiter(in io.Reader, limit int, out io.Writer, onEOF func()) *lineLimiter {
	return &lineLimiter{src: bufio.NewReaderSize(in, 64<<10), limit: limit, out: out, onEOF: onEOF}
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	for len(l.pending) == 0 {
		if l.err != nil {
			if l.err == io.EOF && l.onEOF != nil {
				l.onEOF()
				l.onEOF = nil
			}
			return 0, l.err
		}
		l.pending, l.err = l.next()
	}
	n := copy(p, l.pending[0])
	if l.pending[0] = l.pending[0][n:]; len(l.pending[0]) == 0 {
		l.pending = l.pending[1:]
	}
	return n, nil
}

// next reads the next line that fits the limit, in pieces. The last piece
// may point into src's buffer: it is handed out before src is read again.
func (l *lineLimiter) next() ([][]byte, error) {
	var line [][]byte
	size := 0
	for {
		piece, err := l.src.ReadSlice('\n')
		size += len(piece)
		body := size
		if err == nil {
			body-- // the newline does not count
		}
		if body > l.limit {
			id := peekID(append(firstOf(line), piece...))
			line, size = nil, 0
			if err == bufio.ErrBufferFull {
				err = l.skipLine()
			}
			l.refuse(id)
			if err != nil {
				return nil, err
			}
			continue
		}
		switch err {
		case nil:
			if l.refused(append(line, piece)) {
				line, size = nil, 0
				continue
			}
			return append(line, piece), nil
		case bufio.ErrBufferFull:
			line = append(line, bytes.Clone(piece))
		default: // the end of input: pass on what is left
			if size == 0 || l.refused(append(line, piece)) {
				return nil, err
			}
			return append(line, piece), err
		}
	}
}

func firstOf(line [][]byte) []byte {
	if len(line) == 0 {
		return nil
	}
	return line[0]
}

// skipLine discards the rest of the current line.
func (l *lineLimiter) skipLine() error {
	for {
		_, err := l.src.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

// refuse answers an oversized message. Its id, when found in the first
// bytes, lets the client match the answer to its request.
func (l *lineLimiter) refuse(id json.RawMessage) {
	if id == nil {
		id = json.RawMessage("null")
	}
	msg := rpcError(id, mcp.INVALID_REQUEST, fmt.Sprintf("request too large: the limit is %s per message", byteSize(l.limit)))
	_, _ = l.out.Write(append(msg, '\n'))
}

// refused answers a whole line that refusal refuses (invalid prompt
// arguments) on out itself, so that mcp-go never sees it.
func (l *lineLimiter) refused(line [][]byte) bool {
	msg := line[0]
	if len(line) > 1 {
		msg = bytes.Join(line, nil)
	}
	reply := refusal(msg)
	if reply != nil {
		_, _ = l.out.Write(append(reply, '\n'))
	}
	return reply != nil
}

// peekID finds a JSON-RPC message's top-level "id" in its first bytes, or
// returns nil.
func peekID(prefix []byte) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		if key != "id" {
			if skipValue(dec) != nil {
				return nil
			}
			continue
		}
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		switch t.(type) {
		case json.Number, string:
			id, _ := json.Marshal(t)
			return id
		}
		return nil
	}
	return nil
}

func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// lockedWriter serialises whole writes: mcp-go writes each message with
// one Write, and so does lineLimiter.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
