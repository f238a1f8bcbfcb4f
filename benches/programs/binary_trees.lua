local function make(depth)
  if depth == 0 then return { nil, nil } end
  return { make(depth - 1), make(depth - 1) }
end
local function check(tree)
  if tree[1] == nil then return 1 end
  return 1 + check(tree[1]) + check(tree[2])
end
local max_depth = 15
local total = check(make(max_depth + 1))
local long_lived = make(max_depth)
local depth = 4
while depth <= max_depth do
  local iterations = 1
  for i = 1, max_depth - depth + 4 do iterations = iterations * 2 end
  local sum = 0
  for i = 1, iterations do sum = sum + check(make(depth)) end
  total = total + sum
  depth = depth + 2
end
total = total + check(long_lived)
print(total)
