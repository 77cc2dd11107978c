package handles

import (
	"context"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Redis is the store of replicas that share a Redis (--redis-url): a
// handle minted by one replica resolves on every other. Each handle is a
// key whose TTL is renewed on use, so Redis forgets it by itself.
//
//	outlook-mcp:handle:{<scope>}:<handle>  the id
//
// The braces keep a connection's keys in one cluster slot, so one script
// call can mint a whole result.
type Redis struct {
	rdb *redis.Client
}

// NewRedis returns the store on rdb (the client of the shared limits: one
// configuration, one pool). Closing the store leaves rdb open.
func NewRedis(rdb *redis.Client) *Redis { return &Redis{rdb: rdb} }

// mintLua sets each key KEYS[i] to ARGV[i+1] for ARGV[1] seconds unless it
// holds another id, and returns the id each key holds. One call per
// result: a single round trip, and atomic, where a pipeline of GET and SET
// would let another replica slip in between.
var mintLua = redis.NewScript(`local out = {}
for i, key in ipairs(KEYS) do
  local id = redis.call('GET', key)
  if not id or id == ARGV[i + 1] then
    redis.call('SET', key, ARGV[i + 1], 'EX', ARGV[1])
    id = ARGV[i + 1]
  end
  out[i] = id
end
return out`)

func (r *Redis) key(scope, handle string) string {
	return "outlook-mcp:handle:{" + scope + "}:" + handle
}

// Mint implements Store.
func (r *Redis) Mint(ctx context.Context, s Scope, items []Item) ([]string, error) {
	p := newPlan(s, items)
	if len(p.order) == 0 {
		return p.handles, nil
	}
	keys := make([]string, len(p.order))
	args := make([]any, 0, len(p.order)+1)
	args = append(args, strconv.FormatInt(int64(TTL.Seconds()), 10))
	for i, h := range p.order {
		keys[i] = r.key(p.scope, h)
		args = append(args, p.ids[h])
	}
	ids, err := mintLua.Run(ctx, r.rdb, keys, args...).StringSlice()
	if err != nil {
		return nil, err
	}
	held := map[string]string{}
	for i, h := range p.order {
		if i < len(ids) {
			held[h] = ids[i]
		}
	}
	return p.result(held), nil
}

// Resolve implements Store.
func (r *Redis) Resolve(ctx context.Context, s Scope, handle string) (string, bool, error) {
	id, err := r.rdb.GetEx(ctx, r.key(s.key(), handle), TTL).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, err
	}
	return id, true, nil
}

// Close implements Store; the client is its owner's to close.
func (r *Redis) Close() error { return nil }
