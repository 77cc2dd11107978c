package main

// Shutdown never cuts a change in half: a send_mail whose Graph request is
// in flight when stdin closes, SIGTERM arrives or the HTTP server stops is
// carried to its answer before the process exits.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

// sendLatency is how long the simulated Graph takes to send: the shutdown
// begins 0.3 s into it.
const sendLatency = time.Second

// slowNango serves a simulator whose every Graph request takes sendLatency,
// on a loopback port, as the binary's Nango host.
func slowNango(t *testing.T) (*sim.Sim, []string) {
	t.Helper()
	s, err := sim.New(fixture(t), sim.Options{Latency: sendLatency})
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, append(os.Environ(), "NANGO_HOST="+ts.URL, "NANGO_SECRET_KEY="+sim.DefaultSecretKey,
		"NANGO_CONNECTION_ID=sandbox", "OUTLOOK_MCP_LOG_LEVEL=debug")
}

// sendingStarted waits until Graph has received the sendMail, then 0.3 s more.
func sendingStarted(t *testing.T, s *sim.Sim) {
	t.Helper()
	require.Eventually(t, func() bool { return len(graphRequests(s, "POST", "/v1.0/me/sendMail")) > 0 },
		callTimeout, time.Millisecond, "the send never reached Graph")
	time.Sleep(300 * time.Millisecond)
}

// sentOnceAndComplete checks Graph sent the message exactly once, in full.
func sentOnceAndComplete(t *testing.T, s *sim.Sim, subject string) {
	t.Helper()
	assert.Len(t, graphRequests(s, "POST", "/v1.0/me/sendMail"), 1, "sendMail requests")
	sent := s.Sent()
	require.Len(t, sent, 1, "messages sent")
	var m struct {
		Subject string
		Body    struct{ Content string }
	}
	require.NoError(t, json.Unmarshal(sent[0], &m))
	assert.Equal(t, subject, m.Subject)
	assert.Contains(t, m.Body.Content, "See you at noon.")
}

func sendCall(id int, subject string) string {
	args, _ := json.Marshal(sendArgs(subject))
	return `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"send_mail","arguments":` + string(args) + `}}`
}

// exits waits for the process and checks it ended by itself, successfully.
func exits(t *testing.T, cmd *exec.Cmd, stderr *syncBuffer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "exit status; stderr:\n%s", stderr)
	case <-time.After(callTimeout):
		_ = cmd.Process.Kill()
		t.Fatalf("the process did not exit; stderr:\n%s", stderr)
	}
}

func TestE2EStdioShutdownLetsASendInFlightAnswer(t *testing.T) {
	for _, how := range []string{"stdin closes", "SIGTERM"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			s, env := slowNango(t)
			cmd := exec.Command(serverBinary(t))
			cmd.Env = env
			stderr := &syncBuffer{}
			cmd.Stderr = stderr
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill() })

			subject := "Lunch (" + how + ")"
			_, err = io.WriteString(stdin, strings.Join([]string{
				`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
				`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
				sendCall(2, subject),
			}, "\n")+"\n")
			require.NoError(t, err)
			answers := make(chan map[string]any, 4)
			go func() {
				defer close(answers)
				sc := bufio.NewScanner(stdout)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					var m map[string]any
					if json.Unmarshal(sc.Bytes(), &m) == nil {
						answers <- m
					}
				}
			}()

			sendingStarted(t, s)
			if how == "SIGTERM" {
				require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			} else {
				require.NoError(t, stdin.Close())
			}
			var got map[string]any
			for m := range answers { // until stdout closes
				if m["id"] == float64(2) {
					got = m
				}
			}
			exits(t, cmd, stderr)
			require.NotNil(t, got, "no answer to the send; stderr:\n%s", stderr)
			result, _ := got["result"].(map[string]any)
			require.NotNil(t, result, "the send's answer: %v", got)
			assert.NotEqual(t, true, result["isError"], "the send's answer: %v", result)
			sentOnceAndComplete(t, s, subject)
		})
	}
}

var listeningAt = regexp.MustCompile(`msg=listening addr=(\S+)`)

func TestE2EHTTPSIGTERMLetsASendInFlightAnswer(t *testing.T) {
	for _, kind := range []string{"http", "sse"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s, env := slowNango(t)
			cmd := exec.Command(serverBinary(t), "--transport", "http", "--addr", "127.0.0.1:0")
			cmd.Env = env
			stderr := &syncBuffer{}
			cmd.Stderr = stderr
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			var addr string
			require.Eventually(t, func() bool {
				m := listeningAt.FindStringSubmatch(stderr.String())
				if m != nil {
					addr = m[1]
				}
				return m != nil
			}, callTimeout, 5*time.Millisecond, "not listening; stderr:\n%s", stderr)

			c := connectHTTP(t, kind, "mcp-go", "http://"+addr, "")
			subject := "Lunch (" + kind + ")"
			type answer struct {
				res *toolResult
				err error
			}
			answered := make(chan answer, 1)
			go func() {
				res, err := c.callTool(context.Background(), "send_mail", sendArgs(subject))
				answered <- answer{res, err}
			}()
			sendingStarted(t, s)
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			select {
			case a := <-answered:
				require.NoError(t, a.err)
				assert.False(t, a.res.isError, a.res.text)
			case <-time.After(callTimeout):
				t.Error("no answer to the send")
			}
			exits(t, cmd, stderr)
			sentOnceAndComplete(t, s, subject)
		})
	}
}
