local size = 600
local limit = 80
local inside = 0
local steps = 0
for py = 0, size - 1 do
  local ci = py * 2.0 / size - 1.0
  for px = 0, size - 1 do
    local cr = px * 2.5 / size - 2.0
    local zr = 0.0
    local zi = 0.0
    local i = 0
    while i < limit and zr * zr + zi * zi <= 4.0 do
      local t = zr * zr - zi * zi + cr
      zi = 2.0 * zr * zi + ci
      zr = t
      i = i + 1
    end
    steps = steps + i
    if i == limit then inside = inside + 1 end
  end
end
print(inside .. " " .. steps)
