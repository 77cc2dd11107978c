package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/nango/redistest"
)

func TestRunBadRedisURLIsNamedNotEchoed(t *testing.T) {
	code, _, stderr := runCmd(t, []string{"--sandbox"}, map[string]string{"OUTLOOK_MCP_REDIS_URL": "redis://:s3cret@redis:port"}, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "OUTLOOK_MCP_REDIS_URL")
	assert.NotContains(t, stderr, "s3cret")
}

// TestRunSharesLimitsThroughRedis: with OUTLOOK_MCP_REDIS_URL, a tool call's
// Graph requests take their permits in Redis (the limits themselves are
// tested in nango).
func TestRunSharesLimitsThroughRedis(t *testing.T) {
	rs := redistest.Start(t)
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"pipe","version":"0"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search_mail","arguments":{"limit":1}}}`,
	}, "\n") + "\n"
	code, stdout, stderr := runCmd(t, []string{"--sandbox"}, map[string]string{"OUTLOOK_MCP_REDIS_URL": rs.URL()}, in)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"id":2,"result"`)
	assert.NotContains(t, stdout, `"isError":true`)
	assert.Contains(t, stderr, "shared with the other replicas through Redis")
	assert.NotContains(t, stderr, "Redis does not answer")

	stats, err := rs.Client().Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	assert.Regexp(t, `cmdstat_eval(sha)?:calls=[1-9]`, stats, "a permit was leased in Redis")
	assert.Regexp(t, `cmdstat_zrem:calls=[1-9]`, stats, "and released")
}
