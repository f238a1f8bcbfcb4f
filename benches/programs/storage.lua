local seed = 74755
local count = 0
local function next_random()
  seed = ((seed * 1309) + 13849) & 65535
  return seed
end
local function build_tree_depth(depth)
  count = count + 1
  if depth == 1 then
    local n = next_random() % 10 + 1
    local leaf = {}
    for i = 1, n do leaf[i] = false end
    return leaf
  end
  local arr = {}
  for i = 1, 4 do arr[i] = build_tree_depth(depth - 1) end
  return arr
end
local total = 0
for round = 0, 79 do
  count = 0
  build_tree_depth(7)
  total = total + count
end
print(total)
