local function make_list(length)
  if length == 0 then return nil end
  return {val = length, next = make_list(length - 1)}
end
local function is_shorter_than(x, y)
  local x_tail, y_tail = x, y
  while y_tail ~= nil do
    if x_tail == nil then return true end
    x_tail = x_tail.next
    y_tail = y_tail.next
  end
  return false
end
local function tail(x, y, z)
  if is_shorter_than(y, x) then
    return tail(tail(x.next, y, z), tail(y.next, z, x), tail(z.next, x, y))
  end
  return z
end
local total = 0
for round = 0, 599 do
  local result = tail(make_list(15), make_list(10), make_list(6))
  total = total + result.val
end
print(total)
