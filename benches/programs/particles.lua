-- Plain Lua has no vector type: the components live in separate arrays
-- (doubles; the checksum agrees with Ark's f32 vec3).
local count = 10000
local px, py, pz, vx, vy, vz = {}, {}, {}, {}, {}, {}
local seed = 7
local function rnd()
  seed = (seed * 16807) % 2147483647
  return seed / 2147483647.0
end
for i = 1, count do
  px[i] = rnd() * 10.0; py[i] = rnd() * 10.0; pz[i] = rnd() * 10.0
  vx[i] = rnd() - 0.5; vy[i] = rnd() * 2.0; vz[i] = rnd() - 0.5
end
local gy = -9.8
local dt = 1.0 / 60.0
local bounces = 0
for frame = 1, 200 do
  for i = 1, count do
    local nvx, nvy, nvz = vx[i], vy[i] + gy * dt, vz[i]
    local npx = px[i] + nvx * dt
    local npy = py[i] + nvy * dt
    local npz = pz[i] + nvz * dt
    if npy < 0.0 then
      npy = -npy
      nvy = -nvy * 0.8
      bounces = bounces + 1
    end
    px[i], py[i], pz[i] = npx, npy, npz
    vx[i], vy[i], vz[i] = nvx, nvy, nvz
  end
end
local sx, sy, sz = 0.0, 0.0, 0.0
for i = 1, count do sx = sx + px[i]; sy = sy + py[i]; sz = sz + pz[i] end
local function round(x) if x >= 0 then return math.floor(x + 0.5) else return math.ceil(x - 0.5) end end
print(round(bounces / 100) .. " " .. round(sx / 100) .. " " .. round(sy / 100) .. " " .. round(sz / 100))
