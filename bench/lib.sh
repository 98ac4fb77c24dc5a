# Helpers shared by the bench scripts (sourced, not run).

# Rapport's global id of record $2 of GraphQL type $1: base64url, unpadded,
# of "<type>:<key>" (PostGraphile keeps its own numeric keys).
gid() { # type key
  printf '%s:%s' "$1" "$2" | base64 -w0 | tr '+/' '-_' | tr -d '='
}

cpu_ticks() { # pid... -> user+system clock ticks the live processes used so far
  local sum=0 p t
  for p in "$@"; do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
    sum=$(( sum + ${t:-0} ))
  done
  echo "$sum"
}

busy_ticks() { # -> clock ticks every core spent busy so far
  awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat
}
